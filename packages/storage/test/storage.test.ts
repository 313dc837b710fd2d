import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  ListObjectsV2Command,
  NoSuchBucket,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { scrape, samples, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { createStorage, instrumentS3Client, DeleteAllObjectsError, type Storage } from '@tuist-telemetry/storage';
import { OPERATION_METRICS } from '../src/metrics.js';
import { B1_LE, BUCKET, startFixture, type Fixture } from './fixture.js';

async function put(client: S3Client, key: string, body: string | Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function countKeys(client: S3Client, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    n += page.KeyCount ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

describe('storage: createStorage against s3rver (default labels)', () => {
  let f: Fixture;
  let storage: Storage;

  before(async () => {
    f = await startFixture();
    storage = createStorage({ client: f.client, bucket: BUCKET });
  });
  after(() => f?.stop());

  const metrics = (): Promise<Exposition> => scrape(f.telemetry.url!);

  it('getObjectSize returns the size and records duration, count and size', async () => {
    await put(f.client, 'sizes/a.bin', new Uint8Array(300));
    expect(await storage.getObjectSize('sizes/a.bin')).to.equal(300);
    const exp = await metrics();
    expect(value(exp, 'tuist_storage_get_object_size_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_get_object_size_duration_miliseconds_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_get_object_size_size_bytes_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_get_object_size_size_bytes_sum')).to.equal(300);
    // 300 bytes falls in the 400 bucket, not in 200.
    expect(value(exp, 'tuist_storage_get_object_size_size_bytes_bucket', { le: '200' })).to.equal(0);
    expect(value(exp, 'tuist_storage_get_object_size_size_bytes_bucket', { le: '400' })).to.equal(1);
  });

  it('objectExists is true for an object and false (not an error) for a missing key', async () => {
    await put(f.client, 'exists/yes', 'x');
    expect(await storage.objectExists('exists/yes')).to.equal(true);
    expect(await storage.objectExists('exists/no-such-key')).to.equal(false);
    const exp = await metrics();
    expect(value(exp, 'tuist_storage_check_object_existence_count')).to.equal(2);
    expect(value(exp, 'tuist_storage_check_object_existence_duration_milliseconds_count')).to.equal(2);
  });

  it('getObjectAsString returns the body as UTF-8', async () => {
    const text = 'héllo wörld ✓\nline two';
    await put(f.client, 'strings/s.txt', text);
    expect(await storage.getObjectAsString('strings/s.txt')).to.equal(text);
    const exp = await metrics();
    expect(value(exp, 'tuist_storage_get_object_as_string_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_get_object_as_string_duration_milliseconds_count')).to.equal(1);
  });

  it('multipart: 2 parts PUT with fetch to presigned part URLs, completed, downloaded through a presigned GET URL byte for byte', async () => {
    const key = 'uploads/app build.zip';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(123_457)];
    const uploadId = await storage.multipartStart(key);
    expect(uploadId).to.be.a('string').and.not.equal('');
    const uploaded = [];
    for (const [i, body] of parts.entries()) {
      const url = await storage.multipartGenerateUploadPartUrl(key, uploadId, i + 1, { expiresIn: 600 });
      expect(url)
        .to.include('X-Amz-Signature=')
        .and.include(`partNumber=${i + 1}`)
        .and.include('X-Amz-Expires=600');
      const res = await fetch(url, { method: 'PUT', body });
      expect(res.status, await res.clone().text()).to.equal(200);
      const etag = res.headers.get('etag');
      expect(etag).to.be.a('string');
      uploaded.push({ partNumber: i + 1, etag: etag! });
    }
    // Given out of order on purpose: multipartComplete sorts them.
    await storage.multipartComplete(key, uploadId, [uploaded[1]!, uploaded[0]!]);

    const url = await storage.generateDownloadUrl(key);
    expect(url).to.include('X-Amz-Expires=3600');
    const res = await fetch(url);
    expect(res.status).to.equal(200);
    const downloaded = Buffer.from(await res.arrayBuffer());
    expect(Buffer.compare(downloaded, Buffer.concat(parts))).to.equal(0);
    expect(await storage.getObjectSize(key)).to.equal(parts[0]!.length + parts[1]!.length);

    const exp = await metrics();
    expect(value(exp, 'tuist_storage_multipart_start_upload_duration_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_multipart_start_upload_duration_milliseconds_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_count')).to.equal(2);
    expect(
      value(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_duration_milliseconds_count'),
    ).to.equal(2);
    expect(value(exp, 'tuist_storage_multipart_complete_upload_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_multipart_complete_upload_duration_milliseconds_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_generate_download_presigned_url_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_generate_download_presigned_url_duration_milliseconds_count')).to.equal(1);
  });

  it('presigned part URLs carry no empty-body checksum, even from a client with the SDK default checksum setting', async () => {
    const client = f.newClient({
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    });
    const s = createStorage({ client, bucket: BUCKET });
    const key = 'uploads/default-checksums.bin';
    const uploadId = await s.multipartStart(key);
    // What the SDK alone produces with this client: the CRC32 of an empty body, which S3, R2 and MinIO reject.
    const raw = await getSignedUrl(
      client,
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1 }),
    );
    expect(raw).to.include('x-amz-checksum-crc32=AAAAAA');
    const url = await s.multipartGenerateUploadPartUrl(key, uploadId, 1);
    expect(url).to.not.match(/x-amz-checksum-|x-amz-sdk-checksum-algorithm/i);
    const body = randomBytes(70_000);
    const res = await fetch(url, { method: 'PUT', body });
    expect(res.status).to.equal(200);
    await s.multipartComplete(key, uploadId, [{ partNumber: 1, etag: res.headers.get('etag')! }]);
    const download = await fetch(await s.generateDownloadUrl(key));
    expect(Buffer.compare(Buffer.from(await download.arrayBuffer()), body)).to.equal(0);
  });

  it('deleteAllObjects deletes 1,500 objects under the project (2 list pages, batches of 1000 and 500) and nothing else', async () => {
    // s3rver deletes the keys of one DeleteObjects request in parallel and races removing the emptied directory
    // (InternalError); the SDK's retry of the same request then succeeds. Allow enough attempts for that.
    const client = instrumentS3Client(f.newClient({ maxAttempts: 5 }));
    const keys = Array.from({ length: 1500 }, (_, i) => `big-project/artifacts/${String(i).padStart(4, '0')}.bin`);
    const others = ['big-project-2/keep.bin', 'other/big-project/keep.bin', 'big-project'];
    await f.s3.putObjects(BUCKET, [...keys, ...others]);
    const before = await metrics();

    const s = createStorage({ client, bucket: BUCKET });
    expect(await s.deleteAllObjects('big-project')).to.equal(1500);
    const after = await metrics();

    expect(await countKeys(client, 'big-project/')).to.equal(0);
    for (const k of others) expect(await s.objectExists(k), k).to.equal(true);
    const delta = (name: string, labels: Record<string, string>): number =>
      sum(after, name, labels) - sum(before, name, labels);
    expect(delta('tuist_storage_command_count', { command: 'DeleteObjects', outcome: 'ok' })).to.equal(2);
    expect(delta('tuist_storage_command_count', { command: 'ListObjectsV2', outcome: 'ok' })).to.equal(2);
    expect(value(after, 'tuist_storage_delete_all_objects_count')).to.equal(1);
    expect(value(after, 'tuist_storage_delete_all_objects_duration_milliseconds_count')).to.equal(1);
  });

  it('deleteAllObjects on a project without objects returns 0', async () => {
    expect(await storage.deleteAllObjects('empty-project')).to.equal(0);
  });

  it('deleteAllObjects attempts every key, then rejects with the keys the store refused (DeleteAllObjectsError)', async () => {
    const client = f.newClient();
    // s3rver never refuses a key, so this client plays a store that does: keys containing "locked" are held back
    // from the real DeleteObjects request and reported in its Errors, the way S3 reports AccessDenied per key.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteObjectsCommand') return next(args);
        const input = args.input as { Delete: { Objects: { Key: string }[] } };
        const locked = input.Delete.Objects.filter((o) => o.Key.includes('locked'));
        input.Delete.Objects = input.Delete.Objects.filter((o) => !o.Key.includes('locked'));
        const result = await next(args);
        const output = result.output as { Errors?: { Key: string; Code: string; Message: string }[] };
        output.Errors = locked.map((o) => ({ Key: o.Key, Code: 'AccessDenied', Message: 'Access Denied' }));
        return result;
      },
      { step: 'initialize', name: 'lockedKeysStore' },
    );
    await f.s3.putObjects(BUCKET, ['p-held/a', 'p-held/locked-1', 'p-held/b', 'p-held/locked-2', 'p-held/c']);
    const s = createStorage({ client, bucket: BUCKET });
    const before = sum(await metrics(), 'tuist_storage_delete_all_objects_count');

    const err = await s.deleteAllObjects('p-held').then(
      () => expect.fail('deleteAllObjects should reject'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DeleteAllObjectsError).and.instanceOf(AggregateError);
    const e = err as DeleteAllObjectsError;
    expect(e.deleted).to.equal(3);
    expect(e.failures.map((x) => x.key)).to.deep.equal(['p-held/locked-1', 'p-held/locked-2']);
    expect(e.failures[0]!.code).to.equal('AccessDenied');
    expect(e.errors).to.have.length(2);
    expect(e.message).to.include('p-held/locked-1');
    expect(await countKeys(client, 'p-held/')).to.equal(2);
    expect(sum(await metrics(), 'tuist_storage_delete_all_objects_count') - before).to.equal(1);
  });

  it('a failing operation (missing bucket) records its duration and count, and rethrows the SDK error object itself', async () => {
    const client = f.newClient();
    let thrownBySdk: unknown;
    // Outermost middleware of this client: sees exactly what the SDK's send() rejects with.
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          thrownBySdk = err;
          throw err;
        }
      },
      { step: 'initialize', priority: 'high', name: 'captureSdkError' },
    );
    const missing = createStorage({ client, bucket: 'no-such-bucket' });
    const before = await metrics();

    const err = await missing.getObjectAsString('k').then(
      () => expect.fail('should reject'),
      (e: unknown) => e,
    );
    expect(err).to.equal(thrownBySdk);
    expect(err).to.be.instanceOf(NoSuchBucket);
    expect((err as Error).name).to.equal('NoSuchBucket');

    const err2 = await missing.multipartStart('k').then(
      () => expect.fail('should reject'),
      (e: unknown) => e,
    );
    expect(err2).to.equal(thrownBySdk);
    expect((err2 as Error).name).to.equal('NoSuchBucket');

    const after = await metrics();
    for (const op of ['getObjectAsString', 'multipartStart'] as const) {
      const m = OPERATION_METRICS[op];
      expect(sum(after, m.count) - sum(before, m.count), m.count).to.equal(1);
      expect(sum(after, `${m.duration}_count`) - sum(before, `${m.duration}_count`), m.duration).to.equal(1);
      expect(sum(after, `${m.duration}_sum`), m.duration).to.be.greaterThan(sum(before, `${m.duration}_sum`));
    }
  });

  it('getObjectSize on a missing key rejects with the SDK error and records no size', async () => {
    const before = await metrics();
    const err = await storage.getObjectSize('sizes/missing').then(
      () => expect.fail('should reject'),
      (e: unknown) => e,
    );
    expect((err as Error).name).to.equal('NotFound');
    const after = await metrics();
    expect(
      sum(after, 'tuist_storage_get_object_size_count') - sum(before, 'tuist_storage_get_object_size_count'),
    ).to.equal(1);
    expect(sum(after, 'tuist_storage_get_object_size_size_bytes_count')).to.equal(
      sum(before, 'tuist_storage_get_object_size_size_bytes_count'),
    );
  });

  it('bad input throws a StorageInputError before any network call and records nothing', async () => {
    const client = instrumentS3Client(f.newClient());
    const s = createStorage({ client, bucket: BUCKET });
    const before = await metrics();
    const longKey = 'é'.repeat(513); // 513 characters, 1026 bytes in UTF-8
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['empty key', () => s.getObjectSize(''), /key must be a non-empty string/],
      ['key over 1024 bytes', () => s.objectExists(longKey), /1026 bytes in UTF-8; S3 keys are at most 1024 bytes/],
      ['key over 1024 bytes (download URL)', () => s.generateDownloadUrl(longKey), /at most 1024 bytes/],
      [
        'expiresIn 0',
        () => s.generateDownloadUrl('k', { expiresIn: 0 }),
        /expiresIn must be a whole number of seconds from 1 to 604800/,
      ],
      ['expiresIn over 7 days', () => s.generateDownloadUrl('k', { expiresIn: 604_801 }), /expiresIn/],
      ['expiresIn fractional', () => s.multipartGenerateUploadPartUrl('k', 'u', 1, { expiresIn: 1.5 }), /expiresIn/],
      [
        'part number 0',
        () => s.multipartGenerateUploadPartUrl('k', 'u', 0),
        /partNumber must be a whole number from 1 to 10000/,
      ],
      ['part number 10001', () => s.multipartGenerateUploadPartUrl('k', 'u', 10_001), /partNumber/],
      ['empty upload id', () => s.multipartGenerateUploadPartUrl('k', '', 1), /uploadId/],
      ['empty parts', () => s.multipartComplete('k', 'u', []), /parts must be a non-empty array/],
      [
        'bad part number in parts',
        () => s.multipartComplete('k', 'u', [{ partNumber: 0, etag: '"e"' }]),
        /parts\[0\]\.partNumber/,
      ],
      [
        'duplicate parts',
        () =>
          s.multipartComplete('k', 'u', [
            { partNumber: 1, etag: '"a"' },
            { partNumber: 1, etag: '"b"' },
          ]),
        /twice/,
      ],
      ['empty project slug', () => s.deleteAllObjects(''), /projectSlug must be a non-empty string/],
    ];
    for (const [name, call, message] of cases) {
      const err = await call().then(
        () => expect.fail(`${name}: should reject`),
        (e: unknown) => e,
      );
      expect(err, name).to.be.instanceOf(TypeError);
      expect((err as Error).name, name).to.equal('StorageInputError');
      expect((err as Error).message, name).to.match(message);
    }
    const after = await metrics();
    expect(sum(after, 'tuist_storage_command_count')).to.equal(sum(before, 'tuist_storage_command_count'));
    for (const m of Object.values(OPERATION_METRICS))
      expect(sum(after, m.count), m.count).to.equal(sum(before, m.count));
  });

  it('createStorage rejects a bad configuration at start-up', () => {
    expect(() => createStorage({ client: {} as S3Client, bucket: BUCKET })).to.throw(
      TelemetryConfigError,
      /must be an S3Client/,
    );
    expect(() => createStorage({ client: f.client, bucket: '' })).to.throw(TelemetryConfigError, /bucket.*non-empty/);
    expect(() => createStorage({ client: f.client, bucket: BUCKET, telemetry: {} as Telemetry })).to.throw(
      TelemetryConfigError,
      /startTelemetry/,
    );
  });

  it('the scrape has every documented name with B1 le bounds and, by default, no object_key, upload_id or part_number label', async () => {
    const exp = await metrics();
    const histograms = [
      ...Object.values(OPERATION_METRICS).map((m) => m.duration),
      'tuist_storage_get_object_size_size_bytes',
    ];
    for (const name of histograms) {
      const fam = exp.get(name);
      expect(fam?.type, name).to.equal('histogram');
      const series = samples(exp, `${name}_count`);
      expect(series.length, name).to.be.greaterThan(0);
      for (const { labels } of series) {
        const les = samples(exp, `${name}_bucket`, labels).map((s) => s.labels.le);
        expect(les, `${name} ${JSON.stringify(labels)}`).to.deep.equal(B1_LE);
      }
    }
    for (const m of Object.values(OPERATION_METRICS)) expect(exp.get(m.count)?.type, m.count).to.equal('counter');
    expect(exp.has('tuist_storage_get_object_size_count_total')).to.equal(false);
    for (const fam of exp.values()) {
      if (!fam.name.startsWith('tuist_storage_')) continue;
      for (const s of fam.samples) {
        for (const l of ['object_key', 'upload_id', 'part_number'])
          expect(s.labels, `${s.name} ${l}`).to.not.have.property(l);
      }
    }
    // project_slug is not high-cardinality in the catalog: it is always there.
    expect(samples(exp, 'tuist_storage_delete_all_objects_count', { project_slug: 'big-project' })).to.have.length(1);
  });
});
