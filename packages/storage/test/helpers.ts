import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import { startS3Server, type S3Server } from '@tuist-telemetry/testing';

// The SDK's one-time "Node 20 support ends in 2027" process warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const BUCKET = 'tuist';
/** B1 as the exposition prints the `le` bounds (the catalog's, copied here so the test checks them). */
export const B1_LE = [
  '100',
  '200',
  '400',
  '800',
  '1600',
  '3200',
  '6400',
  '12800',
  '25600',
  '51200',
  '102400',
  '204800',
  '409600',
  '819200',
  '1638400',
  '+Inf',
];

export interface Fixture {
  s3: S3Server;
  client: S3Client;
  telemetry: Telemetry;
  newClient(extra?: S3ClientConfig): S3Client;
  stop(): Promise<void>;
}

/** s3rver with the bucket, an S3Client for it, telemetry on 127.0.0.1:0. */
export async function startFixture(options: Pick<TelemetryOptions, 'highCardinalityLabels'> = {}): Promise<Fixture> {
  const s3 = await startS3Server({ from: import.meta.url, buckets: [BUCKET] });
  const clients: S3Client[] = [];
  const newClient = (extra: S3ClientConfig = {}): S3Client => {
    const c = new S3Client({ ...s3.clientSettings, ...extra });
    clients.push(c);
    return c;
  };
  const telemetry = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, ...options });
  await telemetry.ready();
  return {
    s3,
    client: newClient(),
    telemetry,
    newClient,
    async stop() {
      for (const c of clients) c.destroy();
      await telemetry.shutdown();
      await s3.stop();
    },
  };
}
