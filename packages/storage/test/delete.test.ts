import { expect } from 'chai';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createStorage, DeleteAllObjectsError } from '@tuist-telemetry/storage';
import { BUCKET, startFixture, type Fixture } from './helpers.js';

/**
 * Makes a client answer DeleteObjects the way real S3 does in Quiet mode (s3rver ignores `Quiet`): only the keys it
 * could not delete, no `Deleted` list. Keys containing "locked" are held back from the request and reported in
 * `Errors` (AccessDenied), as S3 reports a refused key.
 */
function quietStore(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DeleteObjectsCommand') return next(args);
      const input = args.input as { Delete: { Objects: { Key: string }[]; Quiet?: boolean } };
      expect(input.Delete.Quiet).to.equal(true);
      const locked = input.Delete.Objects.filter((o) => o.Key.includes('locked'));
      input.Delete.Objects = input.Delete.Objects.filter((o) => !o.Key.includes('locked'));
      const result = await next(args);
      const output = result.output as { Deleted?: unknown; Errors?: { Key: string; Code: string; Message: string }[] };
      delete output.Deleted;
      output.Errors =
        locked.length > 0
          ? locked.map((o) => ({ Key: o.Key, Code: 'AccessDenied', Message: 'Access Denied' }))
          : undefined;
      return result;
    },
    { step: 'initialize', name: 'quietModeStore' },
  );
  return client;
}

async function keys(client: S3Client, prefix: string): Promise<string[]> {
  const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

describe('storage: deleteAllObjects as real S3 answers it', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f?.stop());

  it('Quiet mode without a Deleted list: the count is the batch minus the refused keys', async () => {
    const client = quietStore(f.newClient());
    const s = createStorage({ client, bucket: BUCKET });
    await f.s3.putObjects(BUCKET, ['quiet-ok/a', 'quiet-ok/b', 'quiet-ok/c', 'quiet-ok/d']);
    expect(await s.deleteAllObjects('quiet-ok')).to.equal(4);

    await f.s3.putObjects(BUCKET, ['quiet/a', 'quiet/locked-1', 'quiet/b', 'quiet/locked-2', 'quiet/c']);
    const err = await s.deleteAllObjects('quiet').then(
      () => expect.fail('deleteAllObjects should reject'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DeleteAllObjectsError);
    const e = err as DeleteAllObjectsError;
    expect(e.deleted).to.equal(3);
    expect(e.failures.map((x) => x.key)).to.deep.equal(['quiet/locked-1', 'quiet/locked-2']);
    expect(await keys(client, 'quiet/')).to.deep.equal(['quiet/locked-1', 'quiet/locked-2']);
  });

  it("deletes only the project's own folder: not a neighbour whose slug starts the same, nor a key named like the slug", async () => {
    const client = f.newClient();
    const s = createStorage({ client, bucket: BUCKET });
    await f.s3.putObjects(BUCKET, ['projA/x', 'projA2/y', 'projA']);
    expect(await s.deleteAllObjects('projA')).to.equal(1);
    expect(await s.objectExists('projA/x')).to.equal(false);
    expect(await s.objectExists('projA2/y')).to.equal(true);
    expect(await s.objectExists('projA')).to.equal(true);
  });
});
