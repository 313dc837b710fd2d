/**
 * A throwaway S3-protocol server for the suites: npm `s3rver` on 127.0.0.1, a free port, a temporary directory,
 * logging silenced.
 *
 * It runs in a child process started with `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2
 * continuation tokens with DES, which OpenSSL 3 (Node >= 17) refuses by default, so any listing longer than one
 * page fails with an InternalError (ERR_OSSL_EVP_UNSUPPORTED) in a normal process. The child also keeps s3rver's
 * file-system work off the test's event loop.
 *
 * `s3rver` is a dev dependency of the suite that uses it, not of this package, so it is resolved relative to the
 * caller (`from: import.meta.url`): suites that never start it do not need it installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { onProcessEnd } from './cleanup.js';
import { ownedTempFolder } from './stale-folders.js';

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
  /** The server's folder (buckets and objects), removed by stop() or when the test process ends. */
  directory: string;
  clientSettings: S3ClientSettings;
  /**
   * Seeds objects with plain unsigned PUTs (s3rver accepts anonymous requests), `concurrency` at a time: about
   * 4 ms per object where an SDK PutObject costs 10 ms or more on a 2-core machine.
   */
  putObjects(bucket: string, keys: readonly string[], body?: string, concurrency?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The child: starts s3rver from argv, reports its port over IPC, closes on 'stop'. */
const CHILD = `
const S3rver = require(process.argv[1]);
const options = JSON.parse(process.argv[2]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, resetOnClose: false, ...options });
server.run().then(
  (address) => process.send({ port: address.port }),
  (err) => { process.send({ error: String(err && err.stack || err) }); process.exit(1); },
);
process.on('message', async (m) => {
  if (m !== 'stop') return;
  server.httpServer.closeAllConnections();
  await server.close();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
`;

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`s3rver exited (code ${code}) before listening`));
    child.once('exit', onExit);
    child.once('message', (m: { port?: number; error?: string }) => {
      child.off('exit', onExit);
      if (typeof m.port === 'number') resolve(m.port);
      else reject(new Error(`s3rver did not start: ${m.error ?? JSON.stringify(m)}`));
    });
  });
}

/** Starts s3rver on 127.0.0.1:0 with `buckets` created; `stop()` ends it and deletes its directory. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const modulePath = createRequire(options.from).resolve('s3rver');
  // Folders of killed runs go first (stale-folders.ts).
  const directory = await ownedTempFolder(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tuist-telemetry-s3rver-');
  const serverOptions = { directory, configureBuckets: (options.buckets ?? []).map((name) => ({ name })) };
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD, modulePath, JSON.stringify(serverOptions)],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env,
    },
  );
  // A test process that ends without stop() (Ctrl+C, SIGTERM, a crash) still removes the folder and its objects.
  const forget = onProcessEnd(() => {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });
  let port: number;
  try {
    port = await waitForPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    forget();
    throw err;
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    directory,
    clientSettings: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      // s3rver checks signatures against its fixed default credentials.
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    async putObjects(bucket, keys, body = 'x', concurrency = 8) {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const key = keys[next++]!;
          const path = key.split('/').map(encodeURIComponent).join('/');
          const res = await fetch(`${endpoint}/${encodeURIComponent(bucket)}/${path}`, { method: 'PUT', body });
          if (res.status !== 200) throw new Error(`seeding ${bucket}/${key}: HTTP ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    },
    stop() {
      stopped ??= (async () => {
        if (child.connected) child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
        await rm(directory, { recursive: true, force: true });
        forget();
      })();
      return stopped;
    },
  };
}
