import { expect } from 'chai';
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import { scrape, sum } from '@tuist-telemetry/testing';
import { instrumentS3Client, TuistS3Instrumentation } from '@tuist-telemetry/storage';
import { BUCKET, startFixture, type Fixture } from './helpers.js';

const require = createRequire(import.meta.url);

/**
 * More than one TuistS3Instrumentation in a process (two NodeSDKs, a test harness, a library that brings its own),
 * and clients instrumented by hand next to it: each command is counted once while at least one instance is
 * enabled, and an instance enabled after `@aws-sdk/client-s3` was loaded (its require hook never sees the module
 * again) still reaches every client.
 */
describe('storage: several TuistS3Instrumentation instances and hand-instrumented clients', () => {
  let f: Fixture;
  let sdk: typeof S3;
  const instances: TuistS3Instrumentation[] = [];
  const instrumentation = (config?: { enabled: boolean }): TuistS3Instrumentation => {
    const i = new TuistS3Instrumentation(config);
    instances.push(i);
    return i;
  };
  const newClient = (): S3.S3Client => new sdk.S3Client({ ...f.s3.clientSettings });
  /** How many ListObjectsV2 commands one send on `client` added to the telemetry (0 when not measured). */
  const measured = async (client: S3.S3Client): Promise<number> => {
    const labels = { command: 'ListObjectsV2', outcome: 'ok' };
    const before = sum(await scrape(f.telemetry.url!), 'tuist_storage_command_count', labels);
    await client.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET }));
    return sum(await scrape(f.telemetry.url!), 'tuist_storage_command_count', labels) - before;
  };

  before(async () => {
    f = await startFixture();
  });
  afterEach(() => {
    for (const i of instances.splice(0)) i.disable();
  });
  after(() => f?.stop());

  it('two instances enabled and disabled in turn: one count per command while either is enabled', async () => {
    const a = instrumentation();
    sdk = require('@aws-sdk/client-s3') as typeof S3;
    const b = instrumentation({ enabled: false });
    const old = newClient();
    expect(await measured(old), 'a enabled').to.equal(1);
    b.enable();
    expect(await measured(old), 'a and b enabled: old client').to.equal(1);
    expect(await measured(newClient()), 'a and b enabled: new client').to.equal(1);
    a.disable();
    expect(await measured(old), 'b only: old client').to.equal(1);
    expect(await measured(newClient()), 'b only: new client').to.equal(1);
    b.disable();
    expect(await measured(old), 'none: old client').to.equal(0);
    expect(await measured(newClient()), 'none: new client').to.equal(0);
    a.enable();
    expect(await measured(old), 'a again: old client').to.equal(1);
    expect(await measured(newClient()), 'a again: new client').to.equal(1);
    b.enable();
    a.disable();
    expect(await measured(newClient()), 'b again, a off').to.equal(1);
    a.enable();
    a.enable(); // enabling twice is once: one disable() turns it off
    b.disable();
    a.disable();
    expect(await measured(old), 'both off again: old client').to.equal(0);
    expect(await measured(newClient()), 'both off again: new client').to.equal(0);
  });

  it('an instance first enabled after another one was disabled reaches clients made after it', async () => {
    const a = instrumentation();
    sdk = require('@aws-sdk/client-s3') as typeof S3;
    expect(await measured(newClient()), 'a enabled').to.equal(1);
    a.disable();
    expect(await measured(newClient()), 'a disabled').to.equal(0);
    const late = instrumentation(); // its require hook never fires for the module already loaded
    expect(await measured(newClient()), 'late instance').to.equal(1);
    late.disable();
    late.enable();
    expect(await measured(newClient()), 'late instance re-enabled').to.equal(1);
  });

  it('a client instrumented by hand, then the instrumentation enabled and disabled: always one count, its own', async () => {
    sdk = require('@aws-sdk/client-s3') as typeof S3;
    const hand = instrumentS3Client(newClient());
    expect(await measured(hand), 'by hand only').to.equal(1);
    const auto = instrumentation();
    expect(await measured(hand), 'by hand + instrumentation').to.equal(1);
    expect(await measured(newClient()), 'a client the instrumentation found').to.equal(1);
    const both = newClient();
    await both.send(new sdk.ListObjectsV2Command({ Bucket: BUCKET })); // found by the instrumentation first
    expect(instrumentS3Client(both)).to.equal(both);
    expect(await measured(both), 'found, then instrumentS3Client').to.equal(1);
    auto.disable();
    // The instrumentation's off switch is not the hand-instrumented client's: it keeps its measurement.
    expect(await measured(hand), 'by hand, instrumentation disabled').to.equal(1);
    expect(await measured(newClient()), 'a new client, instrumentation disabled').to.equal(0);
  });
});
