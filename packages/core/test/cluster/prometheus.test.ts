import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPrometheus, type PrometheusServer } from '@tuist-telemetry/testing';
import { startClusterApp, type ClusterApp, requirePrometheus } from '../helpers/index.js';

describe('core: a real Prometheus scraping a 4-worker cluster under load while a worker is replaced', function () {
  this.timeout(180_000);
  let app: ClusterApp | undefined;
  let prom: PrometheusServer | undefined;
  let dir: string;

  before(function () {
    requirePrometheus(this);
  });
  after(async () => {
    await prom?.stop();
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the counter Prometheus stored never went back and ends at exactly what the workers recorded', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tuist-cluster-prom-'));
    app = await startClusterApp({ WORKERS: '4', COUNT_DIR: dir });
    prom = await startPrometheus({ targets: [new URL(app.metricsUrl).host], scrapeIntervalSeconds: 1 });

    // Load: 4 clients, each request on a fresh connection (the cluster spreads them over the workers).
    let loading = true;
    let ok = 0;
    const client = async () => {
      while (loading) {
        try {
          if ((await app!.get('/run?name=load')) === 'ok') ok++;
        } catch {
          // a connection to the worker being replaced
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await new Promise((r) => setTimeout(r, 3000));
    const replaced = app.waitFor(/LISTENING 5/);
    app.command('kill 2 SIGTERM');
    await replaced;
    await new Promise((r) => setTimeout(r, 3000));
    loading = false;
    await Promise.all(clients);

    // Every worker shuts down and reports what it recorded; the primary keeps serving what they counted.
    app.command('stop');
    await app.waitFor(/STOPPED/, true);
    const files = (await readdir(dir)).filter((f) => f.startsWith('worker-'));
    expect(files).to.have.length(5);
    let recorded = 0;
    for (const f of files) recorded += Number(await readFile(path.join(dir, f), 'utf8'));
    expect(recorded).to.be.at.least(ok);
    expect(ok, 'the load reached the app').to.be.greaterThan(50);

    const query = 'tuist_runs_total{name="load"}';
    let stored = NaN;
    for (let i = 0; i < 60 && stored !== recorded; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const v = await prom.vector(query);
      stored = v.length === 1 ? Number(v[0]!.value[1]) : NaN;
    }
    expect(stored, 'the last value Prometheus stored').to.equal(recorded);
    const resets = await prom.vector(`resets(${query}[5m])`);
    expect(resets.map((s) => Number(s.value[1]))).to.deep.equal([0]);
    // The scrapes Prometheus took while workers came and went: never a step back.
    const range = await prom.query(`${query}[5m]`);
    expect(range.resultType).to.equal('matrix');
    const values = range.resultType === 'matrix' ? range.result[0]!.values.map(([, v]) => Number(v)) : [];
    expect(values.length, 'scrapes during the test').to.be.greaterThan(5);
    for (let i = 1; i < values.length; i++) expect(values[i]!, `scrape ${i}`).to.be.at.least(values[i - 1]!);
    expect(values[values.length - 1]).to.equal(recorded);
  });
});
