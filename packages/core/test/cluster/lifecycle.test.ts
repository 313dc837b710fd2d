// A node:cluster app (fixtures/cluster-app.ts, telemetry from register) signalled and reconfigured as operators and
// apps do: SIGTERM to the primary alone (docker stop), worker.kill() from the primary, a worker that restarts its
// telemetry. Each test starts its own app, so the suites share nothing.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { samples, scrape, value, type Exposition } from '@tuist-telemetry/testing';
import { startClusterApp, type ClusterApp } from '../helpers/index.js';

/** The app's output after it was ready (before, the fixture's primary replaces register's diag logger: OTel warns). */
const sinceReady = (app: ClusterApp) => app.output().slice(app.output().indexOf('READY '));
/** Answers come in milliseconds; a generous bound keeps a busy machine from turning one into a timeout. */
const patient = { TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS: '10000' };
const runs = (exp: Exposition, name: string) => value(exp, 'tuist_runs_total', { name, is_ci: 'false', status: '0' });

describe('core: node:cluster lifecycle (signals, worker.kill(), restarted telemetry)', function () {
  this.timeout(120_000);
  let app: ClusterApp | undefined;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tuist-cluster-life-'));
  });
  afterEach(async () => {
    await app?.stop();
    // The workers outlive the primary for a moment (they write into `dir` as they exit).
    await app?.ended;
    app = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM to the primary alone: workers end silently with code 0, as without telemetry, and the primary flushes its pushes', async () => {
    const received: string[] = [];
    const rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    try {
      app = await startClusterApp({
        WORKERS: '3',
        COUNT_DIR: dir,
        ...patient,
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(rx.address() as AddressInfo).port}`,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      });
      for (let i = 0; i < 6; i++) expect(await app.get('/run?name=term')).to.equal('ok');
      expect(runs(await scrape(app.metricsUrl), 'term')).to.equal(6);
      app.command('record primary 4 pushed-by-primary');
      await app.waitFor(/RECORDED primary 4/, true);
      // What `kill <pid>`, docker stop, Kubernetes and systemd do: one signal to the primary's pid only.
      app.child.kill('SIGTERM');
      const { signal } = await app.exited;
      // The app has no SIGTERM handler of its own: register shuts down, then lets the signal end the primary.
      expect(signal, app.output()).to.equal('SIGTERM');
      // Every worker is gone once nobody holds the shared stdout and stderr any more.
      await app.ended;
      for (const id of [1, 2, 3])
        expect(await readFile(path.join(dir, `exit-${id}.txt`), 'utf8'), `worker ${id}: ${app.output()}`).to.equal('0');
      expect(sinceReady(app), 'no stack, no error').to.not.match(/ERR_INTERNAL_ASSERTION|Error|\n\s+at /);
      expect(
        received.some((b) => b.includes('pushed-by-primary')),
        'the primary pushed on shutdown',
      ).to.equal(true);
    } finally {
      rx.close();
    }
  });

  for (const call of ['worker.kill', 'worker.disconnect'] as const) {
    it(`${call}() from the primary keeps everything both workers counted before the call`, async () => {
      // Workers that SIGTERM (what worker.kill() sends) ends at once: nothing of theirs sends a last snapshot.
      app = await startClusterApp({ WORKERS: '2', COUNT_DIR: dir, WORKER_SIGTERM: 'default', ...patient });
      expect(samples(await scrape(app.metricsUrl), 'tuist_runs_total', { name: call })).to.deep.equal([]);
      // Nothing scrapes between these runs and the call: only what the primary collects on the call carries them.
      for (const id of [1, 2]) {
        app.command(`record ${id} 100 ${call}`);
        await app.waitFor(new RegExp(`RECORDED ${id} 100`), true);
      }
      const replaced = Promise.all([app.waitFor(/LISTENING 3/), app.waitFor(/LISTENING 4/)]);
      app.command(`${call} 1`);
      app.command(`${call} 2`);
      await Promise.all([app.waitFor(/EXITED 1 /, true), app.waitFor(/EXITED 2 /, true)]);
      await replaced;
      expect(runs(await scrape(app.metricsUrl), call)).to.equal(200);
      expect(sinceReady(app), 'no stack, no error').to.not.match(/ERR_|Error|\n\s+at /);
    });
  }

  for (const call of ['disconnect', 'kill'] as const) {
    it(`a worker that calls cluster.worker.${call}() itself hands over everything it counted`, async () => {
      app = await startClusterApp({ WORKERS: '2', COUNT_DIR: dir, ...patient });
      expect(samples(await scrape(app.metricsUrl), 'tuist_runs_total', { name: `self-${call}` })).to.deep.equal([]);
      app.command(`record 1 100 self-${call}`);
      await app.waitFor(/RECORDED 1 100/, true);
      const replaced = app.waitFor(/LISTENING 3/);
      app.command(`self 1 ${call}`);
      await app.waitFor(/EXITED 1 0 /, true);
      await replaced;
      expect(runs(await scrape(app.metricsUrl), `self-${call}`)).to.equal(100);
      expect(sinceReady(app), 'no stack, no error').to.not.match(/ERR_|Error|\n\s+at /);
    });
  }

  it('a worker that shuts its telemetry down and starts a new one: the primary keeps the old counts and adds the new', async () => {
    app = await startClusterApp({ WORKERS: '2', COUNT_DIR: dir, ...patient });
    app.command('record 1 100 restart');
    await app.waitFor(/RECORDED 1 100/, true);
    expect(runs(await scrape(app.metricsUrl), 'restart')).to.equal(100);
    app.command('restart 1');
    await app.waitFor(/RESTARTED 1/, true);
    expect(runs(await scrape(app.metricsUrl), 'restart')).to.equal(100);
    app.command('record 1 50 restart');
    await app.waitFor(/RECORDED 1 50/, true);
    let exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'restart')).to.equal(150);
    // The new telemetry's series (numbered from 0 again) were all understood.
    expect(value(exp, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'malformed' }) ?? 0).to.equal(0);
    expect(app.output()).to.not.contain('malformed');
    // Its gauges are served once (the old telemetry's are gone with it), its counters keep adding up.
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'main' })).to.equal(10);
    app.command('record 1 1 restart');
    await app.waitFor(/RECORDED 1 1\b/, true);
    exp = await scrape(app.metricsUrl);
    expect(runs(exp, 'restart')).to.equal(151);
  });
});
