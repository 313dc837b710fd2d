import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TelemetryConfigError } from '@tuist-telemetry/core';
import { scrape, samples, sum, value } from '@tuist-telemetry/testing';
import { instrumentS3Client } from '@tuist-telemetry/storage';
import { B1_LE, BUCKET, startFixture, type Fixture } from './helpers.js';

describe('storage: instrumentS3Client on a client used directly', () => {
  let f: Fixture;

  before(async () => {
    f = await startFixture();
  });
  after(() => f?.stop());

  it('records tuist_storage_command_duration_milliseconds and _count by command and outcome; twice = once', async () => {
    const client = f.newClient();
    expect(instrumentS3Client(client)).to.equal(client);
    instrumentS3Client(client); // idempotent: no second middleware, no double count
    const before = await scrape(f.telemetry.url!);

    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'direct/a.txt', Body: 'a' }));
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'direct/a.txt' }));
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'direct/a.txt' }));
    const notFound = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'direct/missing' })).then(
      () => expect.fail('should reject'),
      (e: unknown) => e as Error,
    );
    expect(notFound.name).to.equal('NotFound');
    const noBucket = await client.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })).then(
      () => expect.fail('should reject'),
      (e: unknown) => e as Error,
    );
    expect(noBucket.name).to.equal('NoSuchBucket');
    // Presigning sends nothing: not a command.
    await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'direct/a.txt' }), { expiresIn: 60 });

    const exp = await scrape(f.telemetry.url!);
    const delta = (labels: Record<string, string>): number =>
      sum(exp, 'tuist_storage_command_count', labels) - sum(before, 'tuist_storage_command_count', labels);
    expect(delta({ command: 'PutObject', outcome: 'ok' })).to.equal(1);
    expect(delta({ command: 'HeadObject', outcome: 'ok' })).to.equal(2);
    expect(delta({ command: 'HeadObject', outcome: 'error' })).to.equal(1);
    expect(delta({ command: 'GetObject', outcome: 'error' })).to.equal(1);
    expect(delta({ command: 'GetObject', outcome: 'ok' })).to.equal(0);
    expect(delta({})).to.equal(5);

    expect(exp.get('tuist_storage_command_count')?.type).to.equal('counter');
    expect(exp.get('tuist_storage_command_duration_milliseconds')?.type).to.equal('histogram');
    const labels = { command: 'HeadObject', outcome: 'ok' };
    expect(value(exp, 'tuist_storage_command_duration_milliseconds_count', labels)).to.equal(
      value(exp, 'tuist_storage_command_count', labels),
    );
    expect(
      samples(exp, 'tuist_storage_command_duration_milliseconds_bucket', labels).map((s) => s.labels.le),
    ).to.deep.equal(B1_LE);
    for (const s of samples(exp, 'tuist_storage_command_count'))
      expect(Object.keys(s.labels).sort()).to.deep.equal(['command', 'outcome']);
  });

  it('times the whole command, retries included: one error count for three attempts', async () => {
    // A store that always answers 500 InternalError (retryable).
    let requests = 0;
    const server: Server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>try again</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = instrumentS3Client(f.newClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 3 }));
    try {
      const before = await scrape(f.telemetry.url!);
      const err = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })).then(
        () => expect.fail('should reject'),
        (e: unknown) => e as Error & { $metadata: { attempts?: number } },
      );
      expect(err.name).to.equal('InternalError');
      expect(err.$metadata.attempts).to.equal(3);
      expect(requests).to.equal(3);
      const exp = await scrape(f.telemetry.url!);
      const labels = { command: 'GetObject', outcome: 'error' };
      expect(
        sum(exp, 'tuist_storage_command_count', labels) - sum(before, 'tuist_storage_command_count', labels),
      ).to.equal(1);
      const n = 'tuist_storage_command_duration_milliseconds_count';
      expect(sum(exp, n, labels) - sum(before, n, labels)).to.equal(1);
    } finally {
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects something that is not an S3Client, or a telemetry option that is not a telemetry, with a clear message', () => {
    expect(() => instrumentS3Client({} as S3Client)).to.throw(TelemetryConfigError, /needs an S3Client/);
    for (const telemetry of [{}, null, { store: {} }, 'telemetry'])
      expect(() => instrumentS3Client(f.newClient(), { telemetry } as never), JSON.stringify(telemetry)).to.throw(
        TelemetryConfigError,
        /instrumentS3Client\(client, \{ telemetry \}\) must be what startTelemetry\(\) returned/,
      );
    expect(instrumentS3Client(f.newClient(), { telemetry: f.telemetry })).to.be.an('object');
  });

  it('the recorded duration is the time the command took: never more than the time around the call', async () => {
    const client = instrumentS3Client(f.newClient());
    const labels = { command: 'PutObject', outcome: 'ok' };
    const name = 'tuist_storage_command_duration_milliseconds_sum';
    const before = sum(await scrape(f.telemetry.url!), name, labels);
    const start = performance.now();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'direct/timed.txt', Body: 't' }));
    const elapsed = performance.now() - start;
    const recorded = sum(await scrape(f.telemetry.url!), name, labels) - before;
    expect(recorded).to.be.greaterThan(0).and.at.most(elapsed);
  });
});
