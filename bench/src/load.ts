// Case 8: a scrape of many series while the app serves HTTP traffic (prom-client's issue #543: users of a big
// registry see the app's event loop stall while Prometheus scrapes). The measured process holds the series and
// serves both /metrics and a small JSON app endpoint; a load generator in another process (loadgen.mjs) sends a
// steady request rate to the app, and the scraper (scraper.mjs) scrapes with gzip as Prometheus does. Measured in
// the app's process: the event-loop delay (`monitorEventLoopDelay`, 1 ms resolution) during each scrape, its 99th
// percentile and maximum; from the load generator: the 99th percentile latency of the app's requests in that
// window. Before each scrape every series is incremented (outside the window), so that a scrape renders series that
// all changed. The same windows without a scrape (as long as the scrape before) give the load's own baseline.
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { remoteScraper, seriesTarget, type SeriesImpl } from './series.js';
import { median } from './utils.js';

interface LoadStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** The app: a JSON answer per request (a little work on the event loop, as a real handler does). */
async function appServer(): Promise<{ url: string; close: () => Promise<void> }> {
  let served = 0;
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ ok: true, path: req.url, served: ++served, at: new Date().toISOString() });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/app`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The load generator's process (on the scraper's Node, like the scraper: the client side stays the same per line). */
function remoteLoad(url: string, rps: number) {
  const execPath = process.env.TUIST_BENCH_SCRAPER_NODE || process.execPath;
  const child = fork(fileURLToPath(new URL('./loadgen.mjs', import.meta.url)), [], {
    execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let error: string | undefined;
  let waiting: { key: string; resolve: (m: never) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m: Record<string, unknown>) => {
    if (typeof m.error === 'string') error ??= m.error;
    const w = waiting;
    if (!w) return;
    if (error !== undefined) {
      waiting = undefined;
      w.reject(new Error(`app load of ${url} failed: ${error}`));
    } else if (w.key in m) {
      waiting = undefined;
      w.resolve(m as never);
    }
  });
  const ask = <T>(message: object, key: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (error !== undefined) return reject(new Error(`app load of ${url} failed: ${error}`));
      waiting = { key, resolve: resolve as (m: never) => void, reject };
      child.send(message);
    });
  return {
    start: () => ask<{ started: true }>({ start: url, rps }, 'started'),
    mark: () => ask<{ marked: true }>({ mark: true }, 'marked'),
    stats: () => ask<LoadStats>({ stats: true }, 'count'),
    close: () => child.disconnect(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function loadCase(
  impl: SeriesImpl,
  n: number,
  scrapes: number,
  rps: number,
): Promise<Record<string, number>> {
  const target = await seriesTarget(impl, n, 1, 'counter');
  target.addSeries(0, n);
  const app = await appServer();
  const load = remoteLoad(app.url, rps);
  const scraper = remoteScraper(target.url, true);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const ms = (ns: number) => ns / 1e6;
  try {
    await load.start();
    await scraper.scrape(); // warm-up scrapes, under load
    await scraper.scrape();
    const during = { elP99: [] as number[], elMax: [] as number[], appP99: [] as number[], scrapeMs: [] as number[] };
    const without = { elP99: [] as number[], appP99: [] as number[] };
    delay.enable();
    for (let i = 0; i < scrapes; i++) {
      // Every series changes between two scrapes, as in case 3: the scrape renders all of them.
      target.addSeries(0, n);
      await sleep(20);
      delay.reset();
      await load.mark();
      const r = await scraper.scrape();
      during.elP99.push(ms(delay.percentile(99)));
      during.elMax.push(ms(delay.max));
      during.scrapeMs.push(r.ms);
      during.appP99.push((await load.stats()).p99);
      // The same load for as long, without a scrape.
      delay.reset();
      await load.mark();
      await sleep(Math.max(50, r.ms));
      without.elP99.push(ms(delay.percentile(99)));
      without.appP99.push((await load.stats()).p99);
    }
    return {
      elP99: median(during.elP99),
      elMax: median(during.elMax),
      appP99: median(during.appP99),
      scrapeMs: median(during.scrapeMs),
      baseElP99: median(without.elP99),
      baseAppP99: median(without.appP99),
    };
  } finally {
    delay.disable();
    scraper.close();
    load.close();
    await app.close();
    await target.close();
  }
}
