// Case 7: a scrape of a 4-worker node:cluster app, served by the primary: this SDK's cluster support (compact
// snapshots over IPC, merged into a store) against prom-client's AggregatorRegistry (every worker's registry as JSON,
// aggregated, then serialised). The measuring process is the cluster primary; cluster-worker.ts is each worker.
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { startTelemetry } from '@tuist-telemetry/core';
import { remoteScraper } from './series.js';
import { median } from './utils.js';

export type ClusterImpl = 'ours' | 'prom-client';
export const CLUSTER_WORKERS = 4;

async function forkWorkers(impl: ClusterImpl, series: number): Promise<Worker[]> {
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./cluster-worker.ts', import.meta.url)),
    args: [impl, String(series)],
    silent: false,
  });
  const workers = Array.from({ length: CLUSTER_WORKERS }, () => cluster.fork());
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: { ready?: boolean }) => {
            if (m?.ready === true) resolve();
          });
          w.once('exit', (code) => reject(new Error(`bench cluster worker exited with ${code}`)));
        }),
    ),
  );
  return workers;
}

async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once('exit', () => resolve());
          w.process.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Median time of a scrape of the primary's /metrics over HTTP (by a scraper in another process) while every worker
 * holds `series` histogram series (the same label sets in each), the body size, and the primary's CPU per scrape.
 */
export async function clusterCase(impl: ClusterImpl, series: number, scrapes: number): Promise<Record<string, number>> {
  let url: string;
  let close: () => Promise<void>;
  if (impl === 'ours') {
    // The primary is configured as its workers are (the same environment in a real app).
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: Math.max(series, 1),
      maxSeriesPerMetric: Math.max(series, 1),
      env: {},
    });
    await t.ready();
    url = t.url!;
    close = () => t.shutdown();
  } else {
    const registry = new AggregatorRegistry();
    const server = http.createServer((_req, res) => {
      registry.clusterMetrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    close = () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  }
  const workers = await forkWorkers(impl, series);
  const scraper = remoteScraper(url);
  try {
    await scraper.scrape(); // the first scrape describes every series (ours) and warms up
    await scraper.scrape();
    const times: number[] = [];
    let bytes = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < scrapes; i++) {
      const r = await scraper.scrape();
      times.push(r.ms);
      bytes = r.bytes;
    }
    const cpu = process.cpuUsage(cpu0);
    return { ms: median(times), bytes, cpuMs: (cpu.user + cpu.system) / 1000 / scrapes };
  } finally {
    scraper.close();
    await stopWorkers(workers);
    await close();
  }
}
