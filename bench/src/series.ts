import { fork } from 'node:child_process';
import http from 'node:http';
import { gzip } from 'node:zlib';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { catalogViews, startTelemetry } from '@tuist-telemetry/core';
import { B1, findMetric, gzipCacheBytes } from '@tuist-telemetry/core/internal';
import { COUNTER_SERIES_METRIC, objectKey, SERIES_METRIC } from './fixtures.js';
import { isAnchor, loadAnchor, type Anchor } from './anchors.js';
import { stockProvider } from './recording.js';
import { median } from './utils.js';

export type SeriesImpl = 'ours' | 'ours-protobuf' | Anchor | 'stock';

/** What Prometheus with native histograms sends first: the protobuf exposition. */
const PROTOBUF_ACCEPT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

/** What each series is: a B1 histogram (cases 3, 6, 7) or a counter (the load case, 8). */
export type SeriesKind = 'histogram' | 'counter';

/** One implementation serving `/metrics` over HTTP on 127.0.0.1, with a way to add series. */
export interface SeriesTarget {
  url: string;
  /** Adds series `from .. to-1` (one `object_key` each; three histogram values or one counter increment each). */
  addSeries(from: number, to: number): void;
  /** This SDK only: bytes its gzip member cache holds (row 6e). */
  gzipCacheBytes?: () => number;
  close(): Promise<void>;
}

/** Records one value into the series of `labels` (setup only: never timed). */
type Record_ = (v: number, labels: Record<string, string>) => void;

function values(i: number, kind: SeriesKind): readonly number[] {
  return kind === 'histogram' ? [(i * 37) % 2_000_000, (i * 7919) % 50_000, 150] : [1 + (i % 7)];
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function seriesTarget(
  impl: SeriesImpl,
  capacity: number,
  concurrent = 1,
  kind: SeriesKind = 'histogram',
): Promise<SeriesTarget> {
  // Each series' label object is built once and reused when the series is recorded into again (before each timed
  // scrape): the garbage of building them would otherwise be collected during the scrape and counted as its cost.
  const labelSets: Record<string, string>[] = [];
  const labelsOf = (i: number) => (labelSets[i] ??= { object_key: objectKey(i) });
  if (impl === 'ours' || impl === 'ours-protobuf') {
    const t = startTelemetry({
      // The endpoint serves 10 scrapes at once by default; the concurrent case asks for more.
      prometheus: { port: 0, host: '127.0.0.1', maxConcurrentScrapes: Math.max(10, concurrent) },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: Math.max(capacity, 1),
      maxSeriesPerMetric: Math.max(capacity, 1),
    });
    await t.ready();
    const store = t.store;
    const record: Record_ =
      kind === 'histogram'
        ? (
            (h) => (v, labels) =>
              h.record(v, labels)
          )(store.histogram(SERIES_METRIC))
        : (
            (c) => (v, labels) =>
              c.add(v, labels)
          )(store.counter(COUNTER_SERIES_METRIC));
    return {
      url: t.url!,
      addSeries(from, to) {
        for (let i = from; i < to; i++) {
          const labels = labelsOf(i);
          for (const v of values(i, kind)) record(v, labels);
        }
      },
      gzipCacheBytes: () => gzipCacheBytes(store),
      close: () => t.shutdown(),
    };
  }
  if (isAnchor(impl)) {
    const { Counter, Histogram, Registry } = await loadAnchor(impl);
    const registry = new Registry();
    const name = kind === 'histogram' ? SERIES_METRIC : COUNTER_SERIES_METRIC;
    const common = {
      name,
      help: findMetric(name)!.description,
      labelNames: ['object_key'] as const,
      registers: [registry],
    };
    const record: Record_ =
      kind === 'histogram'
        ? (
            (h) => (v, labels) =>
              h.observe(labels, v)
          )(new Histogram({ ...common, buckets: [...B1] }))
        : (
            (c) => (v, labels) =>
              c.inc(labels, v)
          )(new Counter(common));
    const { server, url } = await listen((req, res) => {
      // prom-client 15 returns a promise, @platformatic/prom-client may return the string itself.
      Promise.resolve(registry.metrics()).then(
        (body) => {
          // For a gzip-accepting client (Prometheus always is one) the handler compresses the whole body with
          // zlib.gzip at level 1 (the level this SDK uses), which runs on libuv's thread pool.
          if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
            gzip(body, { level: 1 }, (err, zipped) => {
              if (err) res.writeHead(500).end();
              else
                res
                  .writeHead(200, {
                    'Content-Type': registry.contentType,
                    'Content-Encoding': 'gzip',
                    'Content-Length': zipped.length,
                    Vary: 'Accept-Encoding',
                  })
                  .end(zipped);
            });
          } else res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
        },
        () => res.writeHead(500).end(),
      );
    });
    return {
      url,
      addSeries(from, to) {
        for (let i = from; i < to; i++) {
          const labels = labelsOf(i);
          for (const v of values(i, kind)) record(v, labels);
        }
      },
      close: () => closeServer(server),
    };
  }
  // The stock SDK with the catalog's Views (high-cardinality label kept) and the cardinality limit raised so that
  // every series is exported (the default limit, 2000, would fold the rest into one overflow series).
  // The label bound is raised as well (its default, 1000 values per label, would fold the rest into __overflow__).
  const views = catalogViews('docs', {
    highCardinalityLabels: ['object_key'],
    maxLabelValues: Math.max(capacity, 1),
  }).map((v) => ({ ...v, aggregationCardinalityLimit: capacity + 10 }));
  const { provider, exporter } = stockProvider(views);
  const meter = provider.getMeter('bench');
  const record: Record_ =
    kind === 'histogram'
      ? (
          (h) => (v, labels) =>
            h.record(v, labels)
        )(meter.createHistogram(SERIES_METRIC, { unit: 'By' }))
      : (
          (c) => (v, labels) =>
            c.add(v, labels)
        )(meter.createCounter(COUNTER_SERIES_METRIC));
  const { server, url } = await listen((req, res) => exporter.getMetricsRequestHandler(req, res));
  return {
    url,
    addSeries(from, to) {
      for (let i = from; i < to; i++) {
        const labels = labelsOf(i);
        for (const v of values(i, kind)) record(v, labels);
      }
    },
    close: async () => {
      await closeServer(server);
      await provider.shutdown();
    },
  };
}

interface ScrapeReply {
  ms?: number;
  bytes?: number;
  decoded?: number;
  gzip?: boolean;
  status?: number;
  error?: string;
}

/**
 * A scraper in its own process (scraper.mjs): `scrape()` has it scrape once and returns its timing. It runs on
 * TUIST_BENCH_SCRAPER_NODE when set (scripts/bench.mjs sets the machine's Node for the other lines): the client is
 * a stand-in for Prometheus and must be the same on every line, or a line's numbers include its own HTTP client.
 * Node 24's http client reads a 22 MB body about twice as slowly as Node 20's (measured 17-20 ms against 9-14 ms
 * from the same server; raw net.Socket reads take 10 ms on both), which made the 10k-series scrape look 2x slower
 * on Node 24 although the endpoint served curl equally fast on both lines.
 */
export function remoteScraper(
  url: string,
  gzip = false,
  concurrent = 1,
  accept?: string,
): { scrape: () => Promise<{ ms: number; bytes: number; decoded: number }>; close: () => void } {
  const execPath = process.env.TUIST_BENCH_SCRAPER_NODE || process.execPath;
  const child = fork(fileURLToPath(new URL('./scraper.mjs', import.meta.url)), [], {
    execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    scrape: () =>
      new Promise((resolve, reject) => {
        child.once('message', (m: ScrapeReply) => {
          if (m.error !== undefined || m.status !== 200)
            reject(new Error(`scrape of ${url} failed: ${m.error ?? m.status}`));
          else if (m.gzip !== gzip) reject(new Error(`scrape of ${url}: asked gzip=${gzip}, got gzip=${m.gzip}`));
          else resolve({ ms: m.ms!, bytes: m.bytes!, decoded: m.decoded! });
        });
        child.send({ url, gzip, concurrent, accept });
      }),
    close: () => child.disconnect(),
  };
}

/**
 * Case 3: median time of a scrape of `n` histogram series over HTTP, measured by a scraper in another process (as
 * Prometheus would), the body size, and the longest event-loop block in the measured process during a scrape (what
 * every other request of the host waits for).
 */
export async function scrapeCase(
  impl: SeriesImpl,
  n: number,
  scrapes: number,
  gzip = false,
  concurrent = 1,
): Promise<Record<string, number>> {
  const target = await seriesTarget(impl, n, concurrent);
  target.addSeries(0, n);
  const scraper = remoteScraper(target.url, gzip, concurrent, impl === 'ours-protobuf' ? PROTOBUF_ACCEPT : undefined);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    await scraper.scrape(); // first scrape: builds caches, warms up
    await scraper.scrape();
    const times: number[] = [];
    const blocks: number[] = [];
    // CPU of the measured process per scrape (every thread: render, zlib's pool, GC): less moved by a busy machine
    // than the time, so it tells two runs on a shared machine apart (not in the report's table).
    const cpus: number[] = [];
    let bytes = 0;
    let decoded = 0;
    delay.enable();
    for (let i = 0; i < scrapes; i++) {
      // Every series changes between two scrapes (as between Prometheus's scrapes of a busy server), so a timed
      // scrape costs a full render whatever an implementation keeps of series that did not change.
      target.addSeries(0, n);
      await settle();
      delay.reset();
      const cpu0 = process.cpuUsage();
      const r = await scraper.scrape();
      const cpu = process.cpuUsage(cpu0);
      cpus.push((cpu.user + cpu.system) / 1000);
      blocks.push(delay.max / 1e6);
      times.push(r.ms);
      bytes = r.bytes;
      decoded = r.decoded;
    }
    const out: Record<string, number> = {
      ms: median(times),
      bytes,
      decoded,
      blockMs: median(blocks),
      cpuMs: median(cpus),
    };
    if (gzip && concurrent === 1) {
      // 3i: the same gzip scrape when only 1% of the series changed since the last one (a rotating slice): what a
      // scrape costs in proportion to what changed.
      const slice = Math.max(1, Math.round(n / 100));
      const partial: number[] = [];
      const partialCpus: number[] = [];
      for (let i = 0; i < scrapes; i++) {
        const from = (i * slice) % n;
        target.addSeries(from, Math.min(n, from + slice));
        await settle();
        const cpu0 = process.cpuUsage();
        partial.push((await scraper.scrape()).ms);
        const cpu = process.cpuUsage(cpu0);
        partialCpus.push((cpu.user + cpu.system) / 1000);
      }
      out.msChanged1 = median(partial);
      out.cpuMsChanged1 = median(partialCpus);
    }
    return out;
  } finally {
    delay.disable();
    scraper.close();
    await target.close();
  }
}

/** Lets the recording before a scrape finish its own event-loop turn, so that the scrape's block is measured alone. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('the memory case needs node --expose-gc');
  for (let i = 0; i < 4; i++) g();
}

async function usage(): Promise<{ heap: number; rss: number }> {
  // Array buffers are freed by a concurrent sweeper after a GC: give it time, collect again.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  gc();
  const m = process.memoryUsage();
  // Typed-array backing stores live outside the V8 heap: count them as heap so every implementation is measured alike.
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

/**
 * Case 6: heap and RSS growth per 10,000 series (series created, recorded into and scraped once; then scraped with
 * gzip once, 6d, which counts what an implementation keeps of a compressed scrape).
 */
export async function memoryCase(impl: SeriesImpl, n: number): Promise<Record<string, number>> {
  const target = await seriesTarget(impl, n);
  const scraper = remoteScraper(target.url);
  // The stock exporter serves no gzip: no 6d for it.
  const gzipScraper = impl === 'stock' ? undefined : remoteScraper(target.url, true);
  try {
    target.addSeries(0, 1); // the implementation's one-off structures are not per-series costs
    await scraper.scrape();
    // (No gzip scrape before this: its transient buffers, freed later, made rows 6-6c of a few series negative. 6d
    // therefore includes the gzip path's one-off state, a few hundred KB.)
    const before = await usage();
    target.addSeries(1, n + 1);
    const created = await usage();
    await scraper.scrape();
    const after = await usage();
    const afterGzip = gzipScraper ? (await gzipScraper.scrape(), await usage()) : undefined;
    const scale = 10_000 / n;
    return {
      // Heap after a scrape: includes what a scrape caches per series (label text).
      heap: (after.heap - before.heap) * scale,
      ...(afterGzip ? { heapGzip: (afterGzip.heap - before.heap) * scale } : {}),
      // What the gzip member cache holds (counted in heapGzip too), as the cost docs/endpoint.md states.
      ...(afterGzip && target.gzipCacheBytes ? { gzipCache: target.gzipCacheBytes() * scale } : {}),
      // RSS once the series exist, and again after a scrape, whose transient buffers the allocator may keep.
      rss: (created.rss - before.rss) * scale,
      rssScraped: (after.rss - before.rss) * scale,
    };
  } finally {
    scraper.close();
    gzipScraper?.close();
    await target.close();
  }
}
