import { expect } from 'chai';
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, samples, value } from '@tuist-telemetry/testing';
import { instrumentS3Client, TuistS3Instrumentation } from '@tuist-telemetry/storage';
import { BUCKET, startFixture, type Fixture } from './helpers.js';

const require = createRequire(import.meta.url);

describe('storage: TuistS3Instrumentation (module patching of @aws-sdk/client-s3)', () => {
  let f: Fixture;
  let inst: TuistS3Instrumentation;
  let sdk: typeof S3;
  const clients: S3.S3Client[] = [];
  const newClient = (): S3.S3Client => {
    const c = new sdk.S3Client({ ...f.s3.clientSettings });
    clients.push(c);
    return c;
  };
  const count = async (command: string, outcome = 'ok'): Promise<number> => {
    const found = samples(await scrape(f.telemetry.url!), 'tuist_storage_command_count', { command, outcome });
    return found.length === 0 ? 0 : found[0]!.value;
  };

  before(async () => {
    f = await startFixture();
    inst = new TuistS3Instrumentation();
    sdk = require('@aws-sdk/client-s3') as typeof S3;
  });
  after(async () => {
    inst.disable();
    for (const c of clients) c.destroy();
    await f?.stop();
  });

  it('a client created by anyone records tuist_storage_command_* by command and outcome', async () => {
    expect(TuistS3Instrumentation.shortName).to.equal('aws-sdk');
    expect(inst.shortName).to.equal('aws-sdk');
    const client = newClient();
    await client.send(new sdk.PutObjectCommand({ Bucket: BUCKET, Key: 'auto/a.txt', Body: 'a' }));
    await client.send(new sdk.HeadObjectCommand({ Bucket: BUCKET, Key: 'auto/a.txt' }));
    const missing = await client
      .send(new sdk.HeadObjectCommand({ Bucket: BUCKET, Key: 'auto/missing' }))
      .catch((e: Error) => e);
    expect((missing as Error).name).to.equal('NotFound');
    const exp = await scrape(f.telemetry.url!);
    expect(value(exp, 'tuist_storage_command_count', { command: 'PutObject', outcome: 'ok' })).to.equal(1);
    expect(value(exp, 'tuist_storage_command_count', { command: 'HeadObject', outcome: 'ok' })).to.equal(1);
    expect(value(exp, 'tuist_storage_command_count', { command: 'HeadObject', outcome: 'error' })).to.equal(1);
    expect(
      value(exp, 'tuist_storage_command_duration_milliseconds_count', { command: 'PutObject', outcome: 'ok' }),
    ).to.equal(1);
  });

  it('instrumentS3Client on such a client (before or after its first command) never counts twice', async () => {
    const before = await count('GetObject');
    const a = instrumentS3Client(newClient());
    const b = newClient();
    await b
      .send(new sdk.GetObjectCommand({ Bucket: BUCKET, Key: 'auto/a.txt' }))
      .then((r) => r.Body?.transformToString());
    instrumentS3Client(b);
    for (const c of [a, b])
      await c
        .send(new sdk.GetObjectCommand({ Bucket: BUCKET, Key: 'auto/a.txt' }))
        .then((r) => r.Body?.transformToString());
    expect((await count('GetObject')) - before).to.equal(3);
  });

  it('disable and enable are idempotent; while disabled nothing is recorded, after enable again it is', async () => {
    const client = newClient();
    await client.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    inst.disable();
    inst.disable();
    const fresh = newClient();
    await fresh.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    await client.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    expect(await count('ListObjectsV2')).to.equal(1);
    inst.enable();
    inst.enable();
    await fresh.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    await newClient().send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    expect(await count('ListObjectsV2')).to.equal(3);
  });

  it('an unsupported client-s3 major, or one without S3Client.prototype.send, is skipped with one diag message', () => {
    const logged = captureDiag(diag);
    try {
      const other = new TuistS3Instrumentation({ enabled: false });
      const fake = { S3Client: class {} };
      const def = other.getModuleDefinitions()[0]!;
      expect(def.name).to.equal('@aws-sdk/client-s3');
      expect(def.patch!(fake, '4.0.0')).to.equal(fake);
      expect(def.patch!(fake, '4.1.0')).to.equal(fake);
      expect(Object.hasOwn(fake.S3Client.prototype, 'send')).to.equal(false);
      expect(logged.lines).to.deep.equal([
        'warn: @tuist-telemetry/storage @aws-sdk/client-s3 4.0.0 is not supported (3.x is); S3 clients are not instrumented',
      ]);
      const noSend = new TuistS3Instrumentation({ enabled: false });
      const odd = { default: { S3Client: class {} } };
      expect(noSend.getModuleDefinitions()[0]!.patch!(odd, '3.1.0')).to.equal(odd);
      expect(logged.matching(/has no S3Client\.prototype\.send/)).to.have.length(1);
    } finally {
      logged.restore();
    }
  });
});
