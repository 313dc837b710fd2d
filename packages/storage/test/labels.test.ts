import { expect } from 'chai';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { scrape, samples, value } from '@tuist-telemetry/testing';
import { createStorage, type Storage } from '@tuist-telemetry/storage';
import { B1_LE, BUCKET, startFixture, type Fixture } from './helpers.js';

/** Keys that need escaping in the exposition (quote, newline, backslash) or are just unusual (space, unicode). */
const KEYS = [
  'odd keys/with space.txt',
  'odd keys/ünïcødé ✓ 日本.txt',
  'odd keys/say "hi".txt',
  'odd keys/two\nlines.txt',
  'odd keys/back\\slash.txt',
];

describe('storage: labels with highCardinalityLabels "all"', () => {
  let f: Fixture;
  let storage: Storage;

  before(async () => {
    f = await startFixture({ highCardinalityLabels: 'all' });
    storage = createStorage({ client: f.client, bucket: BUCKET });
    for (const key of KEYS) await f.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  });
  after(() => f?.stop());

  it('object_key carries keys with spaces, unicode, quotes, newlines and backslashes, escaped correctly', async () => {
    for (const key of KEYS) {
      expect(await storage.objectExists(key), key).to.equal(true);
      expect(await storage.getObjectSize(key), key).to.equal(Buffer.byteLength(key));
      expect(await storage.getObjectAsString(key), key).to.equal(key);
    }
    const res = await fetch(f.telemetry.url!);
    const text = await res.text();
    // The raw text escapes exactly \ " and newline (Prometheus text format 0.0.4).
    expect(text).to.include('object_key="odd keys/say \\"hi\\".txt"');
    expect(text).to.include('object_key="odd keys/two\\nlines.txt"');
    expect(text).to.include('object_key="odd keys/back\\\\slash.txt"');
    expect(text).to.include('object_key="odd keys/ünïcødé ✓ 日本.txt"');

    // The strict parser gives back each key exactly.
    const exp = await scrape(f.telemetry.url!);
    for (const key of KEYS) {
      for (const name of [
        'tuist_storage_check_object_existence_count',
        'tuist_storage_get_object_size_count',
        'tuist_storage_get_object_as_string_count',
      ]) {
        expect(value(exp, name, { object_key: key }), `${name} ${JSON.stringify(key)}`).to.equal(1);
      }
      expect(value(exp, 'tuist_storage_get_object_size_size_bytes_sum', { object_key: key })).to.equal(
        Buffer.byteLength(key),
      );
      const les = samples(exp, 'tuist_storage_get_object_size_duration_miliseconds_bucket', { object_key: key }).map(
        (s) => s.labels.le,
      );
      expect(les).to.deep.equal(B1_LE);
    }
    expect(samples(exp, 'tuist_storage_check_object_existence_count')).to.have.length(KEYS.length);
  });

  it('multipart metrics carry object_key, upload_id and part_number', async () => {
    const key = 'odd keys/multi "part"\n.bin';
    const uploadId = await storage.multipartStart(key);
    const etags = [];
    for (const partNumber of [1, 2]) {
      const url = await storage.multipartGenerateUploadPartUrl(key, uploadId, partNumber);
      const res = await fetch(url, { method: 'PUT', body: `part ${partNumber}` });
      expect(res.status).to.equal(200);
      etags.push({ partNumber, etag: res.headers.get('etag')! });
    }
    await storage.multipartComplete(key, uploadId, etags);
    expect(await storage.getObjectAsString(key)).to.equal('part 1part 2');

    const exp = await scrape(f.telemetry.url!);
    expect(value(exp, 'tuist_storage_multipart_start_upload_duration_count', { object_key: key })).to.equal(1);
    for (const part of ['1', '2']) {
      const labels = { object_key: key, upload_id: uploadId, part_number: part };
      expect(value(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_count', labels)).to.equal(1);
      expect(
        value(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_duration_milliseconds_count', labels),
      ).to.equal(1);
    }
    const complete = samples(exp, 'tuist_storage_multipart_complete_upload_count');
    expect(complete.map((s) => s.labels)).to.deep.equal([{ object_key: key, upload_id: uploadId }]);
  });

  it('generateDownloadUrl and deleteAllObjects carry object_key and project_slug', async () => {
    await storage.generateDownloadUrl(KEYS[0]!, { expiresIn: 1 });
    await storage.generateDownloadUrl(KEYS[0]!, { expiresIn: 604_800 });
    expect(await storage.deleteAllObjects('odd keys')).to.equal(KEYS.length + 1);
    const exp = await scrape(f.telemetry.url!);
    expect(value(exp, 'tuist_storage_generate_download_presigned_url_count', { object_key: KEYS[0]! })).to.equal(2);
    expect(value(exp, 'tuist_storage_delete_all_objects_count', { project_slug: 'odd keys' })).to.equal(1);
  });

  it('an explicit telemetry gets the metrics, not the running one', async () => {
    const { startTelemetry } = await import('@tuist-telemetry/core');
    const own = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      highCardinalityLabels: 'all',
    });
    try {
      await own.ready();
      const pinned = createStorage({ client: f.client, bucket: BUCKET, telemetry: f.telemetry });
      // `own` is now the running telemetry (getTelemetry()); `pinned` still records into f.telemetry.
      expect(await pinned.objectExists('pinned/missing')).to.equal(false);
      const mine = await scrape(own.url!);
      expect(samples(mine, 'tuist_storage_check_object_existence_count')).to.have.length(0);
      const theirs = await scrape(f.telemetry.url!);
      expect(value(theirs, 'tuist_storage_check_object_existence_count', { object_key: 'pinned/missing' })).to.equal(1);
    } finally {
      await own.shutdown();
    }
  });

  it("naming 'server' exposes the Tuist server's spelling of the three storage names", async () => {
    const { startTelemetry } = await import('@tuist-telemetry/core');
    const server = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      naming: 'server',
    });
    try {
      await server.ready();
      const s = createStorage({ client: f.client, bucket: BUCKET, telemetry: server });
      await f.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'naming/a', Body: 'a' }));
      await s.getObjectSize('naming/a');
      const uploadId = await s.multipartStart('naming/b');
      const url = await s.multipartGenerateUploadPartUrl('naming/b', uploadId, 1);
      const res = await fetch(url, { method: 'PUT', body: 'b' });
      await s.multipartComplete('naming/b', uploadId, [{ partNumber: 1, etag: res.headers.get('etag')! }]);
      const exp = await scrape(server.url!);
      expect(value(exp, 'tuist_storage_get_object_size_duration_milliseconds_count')).to.equal(1);
      expect(value(exp, 'tuist_storage_multipart_start_upload_count')).to.equal(1);
      expect(value(exp, 'tuist_storage_multipart_complete_upload_duration_count')).to.equal(1);
      expect(exp.has('tuist_storage_get_object_size_duration_miliseconds')).to.equal(false);
    } finally {
      await server.shutdown();
    }
  });
});
