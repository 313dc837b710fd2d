import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getTelemetry, startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { scrape, startS3Server, value, type S3Server } from '@tuist-telemetry/testing';
import { createStorage, instrumentS3Client } from '@tuist-telemetry/storage';
import { BUCKET } from './helpers.js';

describe('storage: without a running telemetry', () => {
  let s3: S3Server;
  let client: S3Client;
  let telemetry: Telemetry | undefined;
  const warnings: string[] = [];

  before(async function () {
    if (getTelemetry() !== undefined) {
      console.warn('\n!!! SKIPPING: another suite left a telemetry running; this suite needs none.\n');
      this.skip();
    }
    s3 = await startS3Server({ from: import.meta.url, buckets: [BUCKET] });
    client = new S3Client(s3.clientSettings);
    const log = (...args: unknown[]): void => void warnings.push(args.map(String).join(' '));
    diag.setLogger({ error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  });
  after(async () => {
    diag.disable();
    client?.destroy();
    await telemetry?.shutdown();
    await s3?.stop();
  });

  it('operations work, record nothing and warn once; a telemetry started later gets the metrics', async () => {
    instrumentS3Client(client);
    const storage = createStorage({ client, bucket: BUCKET });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'p/a.txt', Body: 'abc' }));
    expect(await storage.objectExists('p/a.txt')).to.equal(true);
    expect(await storage.objectExists('p/missing')).to.equal(false);
    expect(await storage.getObjectSize('p/a.txt')).to.equal(3);
    expect(await storage.getObjectAsString('p/a.txt')).to.equal('abc');
    expect(await storage.generateDownloadUrl('p/a.txt')).to.match(/^http:\/\/127\.0\.0\.1:\d+\/tuist\/p\/a\.txt\?/);
    const noTelemetry = warnings.filter((w) => w.includes('no telemetry is running'));
    // Exactly once per process: earlier suites always had a telemetry running, so this is the first time.
    expect(noTelemetry).to.have.length(1);
    expect(noTelemetry[0]).to.include('@tuist-telemetry/storage').and.include('startTelemetry()');

    telemetry = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await telemetry.ready();
    expect(await storage.getObjectSize('p/a.txt')).to.equal(3);
    const exp = await scrape(telemetry.url!);
    // Only what ran after start-up: one getObjectSize, and its HeadObject command.
    expect(value(exp, 'tuist_storage_get_object_size_count')).to.equal(1);
    expect(value(exp, 'tuist_storage_command_count', { command: 'HeadObject', outcome: 'ok' })).to.equal(1);
    expect(value(exp, 'tuist_storage_check_object_existence_count')).to.equal(0);
    expect(warnings.filter((w) => w.includes('no telemetry is running')).length).to.equal(noTelemetry.length);
  });
});
