import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { startTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';
import { clusterRole } from '../../src/cluster/index.js';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { samples, scrape, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { startClusterApp, type ClusterApp, coreDir, fixturePath } from '../helpers/index.js';

describe('core: node:cluster (primary serves one /metrics for every worker)', function () {
  this.timeout(120_000);
  let app: ClusterApp;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tuist-cluster-'));
    app = await startClusterApp({ WORKERS: '3', COUNT_DIR: dir, TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS: '500' });
  });
  after(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const runs = (exp: Exposition, name: string) => value(exp, 'tuist_runs_total', { name, is_ci: 'false', status: '0' });

  it('workers bind no metrics port; the primary serves the sum of every worker', async () => {
    const lines = await Promise.all([1, 2, 3].map((id) => app.waitFor(new RegExp(`WORKER ${id} url=(\\S+)`), true)));
    expect(lines.map((m) => m[1])).to.deep.equal(['none', 'none', 'none']);
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      expect(await app.get('/run?name=sum')).to.equal('ok');
      served.add((await app.get('/pid')).split(' ')[0]!);
    }
    expect(served.size, 'requests reached several workers').to.be.greaterThan(1);
    const exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'sum')).to.equal(30);
    expect(value(exp, 'tuist_runs_duration_milliseconds_count', { name: 'sum', is_ci: 'false', status: '0' })).to.equal(
      30,
    );
    expect(value(exp, 'tuist_runs_duration_milliseconds_sum', { name: 'sum', is_ci: 'false', status: '0' })).to.equal(
      150,
    );
    // Every later scrape (whichever worker a scrape would have reached before) sees the same total.
    for (let i = 0; i < 5; i++) expect(runs(await scrape(app.metricsUrl), 'sum')).to.equal(30);
  });

  it("follows each gauge family's rule: pools summed, polled totals once, runtime gauges per worker", async () => {
    const exp = await scrape(app.metricsUrl);
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'main' })).to.equal(30);
    expect(value(exp, 'tuist_projects_total')).to.equal(42);
    const workers = samples(exp, 'nodejs_heap_size_used_bytes')
      .map((s) => s.labels.worker)
      .sort();
    expect(workers).to.deep.equal(['1', '2', '3', 'primary']);
    expect(samples(exp, 'tuist_application_info')).to.have.length(1);
    expect(value(exp, 'tuist_application_info')).to.equal(1);
  });

  it("keeps the counts of a worker that exits, and adds its replacement's", async () => {
    for (let i = 0; i < 12; i++) await app.get('/run?name=exit');
    const before = runs(await scrape(app.metricsUrl), 'exit');
    expect(before).to.equal(12);
    const replaced = app.waitFor(/LISTENING 4/);
    app.command('kill 1 SIGTERM');
    await app.waitFor(/EXITED 1 0/, true);
    await replaced;
    const counted = Number(await readFile(path.join(dir, 'worker-1.txt'), 'utf8'));
    expect(counted, 'worker 1 recorded runs').to.be.greaterThan(0);
    let exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'exit')).to.equal(12);
    expect(
      samples(exp, 'nodejs_heap_size_used_bytes')
        .map((s) => s.labels.worker)
        .sort(),
    ).to.deep.equal(['2', '3', '4', 'primary']);
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'main' }), "the exited worker's pool gauge is gone").to.equal(30);
    for (let i = 0; i < 9; i++) await app.get('/run?name=exit');
    exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'exit')).to.equal(21);
  });

  it('a worker the primary disconnects (worker.disconnect()) hands over what it counted since the last scrape', async () => {
    expect(samples(await scrape(app.metricsUrl), 'tuist_runs_total', { name: 'disconnect' })).to.deep.equal([]);
    // Nothing scrapes between these runs and the worker's exit: only the final snapshot carries them.
    for (let i = 0; i < 12; i++) await app.get('/run?name=disconnect');
    const replaced = app.waitFor(/LISTENING 5/);
    app.command('worker.disconnect 2');
    await app.waitFor(/EXITED 2 /, true);
    await replaced;
    expect(runs(await scrape(app.metricsUrl), 'disconnect')).to.equal(12);
  });

  it('a worker that dies without a word (SIGKILL) keeps what the last scrape saw of it', async () => {
    for (let i = 0; i < 9; i++) await app.get('/run?name=crash');
    expect(runs(await scrape(app.metricsUrl), 'crash')).to.equal(9);
    const replaced = app.waitFor(/LISTENING 6/);
    app.command('kill 3 SIGKILL');
    await app.waitFor(/EXITED 3 null SIGKILL/, true);
    await replaced;
    expect(runs(await scrape(app.metricsUrl), 'crash')).to.equal(9);
  });

  it('a hung worker cannot hang the scrape: it is served with its previous values and counted as missed', async () => {
    for (let i = 0; i < 6; i++) await app.get('/run?name=hang');
    expect(runs(await scrape(app.metricsUrl), 'hang')).to.equal(6);
    // Block every worker in turn until the scrape misses one (the connection goes to the next worker).
    await app.get('/block?ms=4000');
    const exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'hang')).to.equal(6);
    expect(value(exp, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'timeout' })).to.be.greaterThan(0);
  });

  it('drops a malformed snapshot with a warning and keeps serving', async () => {
    await app.get('/malformed');
    const exp = await scrape(app.metricsUrl);
    expect(value(exp, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'malformed' })).to.be.greaterThan(0);
    expect(runs(exp, 'sum')).to.equal(30);
    expect(app.output()).to.contain('dropped a malformed snapshot from cluster worker');
  });

  it('after every worker shut down, the primary still serves all they counted', async () => {
    const total = sum(await scrape(app.metricsUrl), 'tuist_runs_total');
    app.command('stop');
    await app.waitFor(/STOPPED/, true);
    const files = (await readdir(dir)).filter((f) => f.startsWith('worker-'));
    let recorded = 0;
    for (const f of files) recorded += Number(await readFile(path.join(dir, f), 'utf8'));
    const exp = await scrape(app.metricsUrl);
    expect(sum(exp, 'tuist_runs_total')).to.equal(recorded);
    expect(sum(exp, 'tuist_runs_total')).to.equal(total);
    expect(samples(exp, 'nodejs_heap_size_used_bytes').map((s) => s.labels.worker)).to.deep.equal(['primary']);
    // Every worker was welcomed by the primary: none warned that nobody serves its metrics.
    expect(app.output()).to.not.contain('has not started telemetry');
  });
});

describe('core: node:cluster set-up mistakes', function () {
  this.timeout(60_000);

  it('a worker whose primary runs no telemetry warns that nobody serves its metrics', async () => {
    const fixture = fixturePath('cluster-lonely.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture], {
      cwd: coreDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no warning:\n${out}`)), 30_000);
        const onData = (c: Buffer) => {
          out += c.toString();
          if (out.includes('its primary has not started telemetry')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
      });
      expect(out).to.contain('TUIST_TELEMETRY_CLUSTER=off');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('TUIST_TELEMETRY_CLUSTER and TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS are checked at start-up', () => {
    expect(() => startTelemetry({ env: { TUIST_TELEMETRY_CLUSTER: 'sometimes' } })).to.throw(
      TelemetryConfigError,
      /TUIST_TELEMETRY_CLUSTER: unknown mode "sometimes"; valid values are auto, off/,
    );
    expect(() => startTelemetry({ env: { TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS: '0' } })).to.throw(
      TelemetryConfigError,
      /TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS must be an integer from 1/,
    );
    expect(() => startTelemetry({ cluster: { mode: 'x' as 'off' } })).to.throw(
      TelemetryConfigError,
      /options\.cluster\.mode/,
    );
  });

  it('`off` makes a process plain whatever it is; `auto` in a process that is no worker is a primary', () => {
    expect(clusterRole('off', {})).to.deep.equal({ kind: 'single' });
    expect(clusterRole('auto', {})).to.deep.equal({ kind: 'primary' });
    expect(clusterRole('off', { pm_id: '0', NODE_APP_INSTANCE: '1' }, true)).to.deep.equal({ kind: 'single' });
  });

  it('in a node:cluster worker: a worker, or a PM2 instance (its number, 0 when it is no count) when PM2 started it', () => {
    expect(clusterRole('auto', {}, true)).to.deep.equal({ kind: 'worker' });
    expect(clusterRole('auto', { pm_id: '3' }, true)).to.deep.equal({ kind: 'worker' });
    expect(clusterRole('auto', { NODE_APP_INSTANCE: '2' }, true)).to.deep.equal({ kind: 'worker' });
    const pm2 = (instance: string) => clusterRole('auto', { pm_id: '7', NODE_APP_INSTANCE: instance }, true);
    expect(pm2('2')).to.deep.equal({ kind: 'pm2', instance: 2 });
    expect(pm2('0')).to.deep.equal({ kind: 'pm2', instance: 0 });
    for (const odd of ['-1', '1.5', 'x', '']) expect(pm2(odd), odd).to.deep.equal({ kind: 'pm2', instance: 0 });
    expect(clusterRole('auto', { pm_id: '7', NODE_APP_INSTANCE: '2' }, false)).to.deep.equal({ kind: 'primary' });
  });
});
