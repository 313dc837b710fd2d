/**
 * A throwaway S3-protocol server for the suites: npm `s3rver` on 127.0.0.1, a free port, a temporary directory,
 * logging silenced. `s3rver` is a dev dependency of the suite that uses it, not of this package, so it is loaded
 * relative to the caller (`from: import.meta.url`): suites that never start it do not need it installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of s3rver's API the harness uses (it ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3ServerOptions {
  /** `import.meta.url` of the calling suite: where `s3rver` is resolved from. */
  from: string;
  /** Buckets to create before the server answers. */
  buckets?: readonly string[];
}

/** Settings for an `S3Client` talking to the harness (pass them to `new S3Client(...)`). */
export interface S3ClientSettings {
  endpoint: string;
  region: string;
  forcePathStyle: true;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestChecksumCalculation: 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_REQUIRED';
}

export interface S3Server {
  endpoint: string;
  port: number;
  clientSettings: S3ClientSettings;
  stop(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1:0 with `buckets` created; `stop()` closes it and deletes its directory. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const S3rver = createRequire(options.from)('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 'tuist-telemetry-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    resetOnClose: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port: address.port,
    clientSettings: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      // s3rver checks signatures against its fixed default credentials.
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    stop() {
      stopped ??= (async () => {
        // Keep-alive sockets from SDK clients would hold close() open until they time out.
        server.httpServer?.closeAllConnections();
        await server.close();
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
