import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scrape, value } from '@tuist-telemetry/testing';
import { coreDir, fixturePath } from '../helpers/index.js';

const pm2Bin = path.join(coreDir, 'node_modules/pm2/bin/pm2');
const app = fixturePath('pm2-app.mjs');
const INSTANCES = 2;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base port with the next INSTANCES - 1 ports free as well. */
async function freePortRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let i = 0; i < INSTANCES && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free port range');
}

describe('core: PM2 cluster mode (each instance serves port + NODE_APP_INSTANCE; Prometheus sums the targets)', function () {
  this.timeout(120_000);
  let home: string;
  const pm2 = (...args: string[]) =>
    spawnSync(process.execPath, [pm2Bin, ...args], {
      cwd: coreDir,
      env: { ...process.env, PM2_HOME: home },
      encoding: 'utf8',
      timeout: 60_000,
    });

  before(async () => {
    if (!existsSync(pm2Bin))
      throw new Error(`pm2 is a devDependency of core but ${pm2Bin} is missing: run pnpm install`);
    home = await mkdtemp(path.join(tmpdir(), 'tuist-pm2-'));
  });
  after(async () => {
    if (!home) return;
    pm2('kill');
    await rm(home, { recursive: true, force: true });
  });

  it('gives every instance its own port, so the sum over the targets is what the instances recorded', async () => {
    const base = await freePortRange();
    const ecosystem = path.join(home, 'ecosystem.config.cjs');
    await writeFile(
      ecosystem,
      `module.exports = { apps: [${JSON.stringify({
        name: 'tuist-telemetry-pm2-test',
        script: app,
        cwd: coreDir,
        exec_mode: 'cluster',
        instances: INSTANCES,
        node_args: ['--import', 'tsx', '--conditions=source'],
        autorestart: false,
        env: {
          OTEL_EXPORTER_PROMETHEUS_PORT: String(base),
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          COUNT_DIR: home,
          RUNS: '5',
        },
      })}] };\n`,
    );
    const started = pm2('start', ecosystem);
    expect(started.status, started.stdout + started.stderr).to.equal(0);

    const files = Array.from({ length: INSTANCES }, (_, i) => path.join(home, `instance-${i}.txt`));
    for (let i = 0; i < 120 && !files.every((f) => existsSync(f)); i++) await new Promise((r) => setTimeout(r, 250));
    if (!files.every((f) => existsSync(f))) {
      const logs = pm2('logs', '--nostream', '--lines', '40');
      throw new Error(`PM2 instances did not start:\n${logs.stdout}\n${logs.stderr}`);
    }
    let recorded = 0;
    let served = 0;
    for (let i = 0; i < INSTANCES; i++) {
      const [count, url] = (await readFile(files[i]!, 'utf8')).split(' ');
      expect(url).to.equal(`http://127.0.0.1:${base + i}/metrics`);
      recorded += Number(count);
      // The same instance answers every scrape of its port (no round robin through PM2's daemon).
      for (let k = 0; k < 3; k++) {
        expect(value(await scrape(url!), 'tuist_runs_total', { name: 'pm2' })).to.equal(Number(count));
      }
      served += value(await scrape(url!), 'tuist_runs_total', { name: 'pm2' });
    }
    expect(recorded).to.equal(5 + 6);
    expect(served).to.equal(recorded);
  });
});
