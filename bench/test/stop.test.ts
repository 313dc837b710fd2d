import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, eventually, killRunning, running, type Proc } from '@tuist-telemetry/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// `docker stop`, a CI step timeout or `kill <pid>` signal one process: `npm run bench`'s scripts/bench.mjs. Before it
// passed the signal on, it died alone and bench/src/main.ts ran the whole bench on, with its measured processes,
// servers and PostgreSQL. Quick workloads on the machine's Node.
describe('bench: SIGTERM to the pid of scripts/bench.mjs alone stops every process of the run', function () {
  this.timeout(240_000);
  let leftovers: Proc[] = [];

  afterEach(() => {
    killRunning(leftovers);
    leftovers = [];
  });

  const cases = [
    // Interleaved rounds: four measured processes and the keep-alive server, all children of main.ts.
    { only: 'undici', busy: /bench\/src\/child\.ts --rounds undici/ },
    // One process per cell, which reads no stdin, and the scraper it forks.
    { only: 'scrape', busy: /bench\/src\/scraper\.mjs/ },
  ];
  for (const { only, busy } of cases) {
    it(`while the ${only} case runs: the wrapper exits 1 and main.ts and all below it are gone`, async function () {
      if (process.platform !== 'linux') this.skip(); // reads /proc
      const env: NodeJS.ProcessEnv = { ...process.env, TUIST_BENCH_NODE: 'current', TUIST_BENCH_NODE_LINES: '' };
      delete env.NODE_OPTIONS;
      // 50 runs: minutes of work, so a run that goes on after the signal cannot end inside the 30 s allowed.
      const wrapper = spawn(process.execPath, ['scripts/bench.mjs', '--quick', '--runs', '50', '--only', only], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      wrapper.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
      wrapper.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
      const tree = await eventually(
        `${busy} below the wrapper`,
        async () => {
          const procs = descendants(wrapper.pid!);
          leftovers = procs;
          if (wrapper.exitCode !== null) throw new Error(`the bench exited ${wrapper.exitCode}:\n${out.slice(-3000)}`);
          return procs.some((p) => busy.test(p.cmd)) ? procs : undefined;
        },
        180_000,
        200,
      );
      expect(tree.some((p) => p.cmd.includes('bench/src/main.ts'))).to.equal(true);

      process.kill(wrapper.pid!, 'SIGTERM');
      await eventually(
        'the wrapper and every process below it gone',
        async () => (wrapper.exitCode !== null && !tree.some(running) ? true : undefined),
        30_000,
        200,
      ).catch((err: Error) => {
        const alive = tree.filter(running).map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`);
        throw new Error(`${err.message}; still running:\n${alive.join('\n')}\n--- output ---\n${out.slice(-2000)}`);
      });
      expect(wrapper.exitCode).to.equal(1);
      expect(out).to.include('bench: stopped (SIGTERM)');
      // main.ts did not go on to the report.
      expect(out).not.to.include('Bars');
    });
  }
});
