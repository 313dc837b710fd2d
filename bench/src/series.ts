import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { Histogram, Registry } from 'prom-client';
import { B1, catalogViews, findMetric, startTelemetry } from '@tuist-telemetry/core';
import { objectKey, SERIES_METRIC } from './fixtures.js';
import { stockProvider } from './recording.js';
import { median, nowNs } from './utils.js';

export type SeriesImpl = 'ours' | 'prom-client' | 'stock';

/** One implementation serving `/metrics` over HTTP on 127.0.0.1, with a way to add histogram series. */
export interface SeriesTarget {
  url: string;
  /** Adds series `from .. to-1` (one `object_key` each, three values recorded). */
  addSeries(from: number, to: number): void;
  close(): Promise<void>;
}

function values(i: number): [number, number, number] {
  return [(i * 37) % 2_000_000, (i * 7919) % 50_000, 150];
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

export async function seriesTarget(impl: SeriesImpl, capacity: number): Promise<SeriesTarget> {
  if (impl === 'ours') {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: Math.max(capacity, 1),
    });
    await t.ready();
    const h = t.store.histogram(SERIES_METRIC);
    return {
      url: t.url!,
      addSeries(from, to) {
        for (let i = from; i < to; i++) {
          const labels = { object_key: objectKey(i) };
          for (const v of values(i)) h.record(v, labels);
        }
      },
      close: () => t.shutdown(),
    };
  }
  if (impl === 'prom-client') {
    const registry = new Registry();
    const h = new Histogram({ name: SERIES_METRIC, help: findMetric(SERIES_METRIC)!.description, labelNames: ['object_key'], buckets: [...B1], registers: [registry] });
    const { server, url } = await listen((_req, res) => {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    return {
      url,
      addSeries(from, to) {
        for (let i = from; i < to; i++) {
          const labels = { object_key: objectKey(i) };
          for (const v of values(i)) h.observe(labels, v);
        }
      },
      close: () => closeServer(server),
    };
  }
  // The stock SDK with the catalog's Views (high-cardinality label kept) and the cardinality limit raised so that
  // every series is exported (the default limit, 2000, would fold the rest into one overflow series).
  const views = catalogViews('docs', { highCardinalityLabels: ['object_key'] }).map((v) => ({ ...v, aggregationCardinalityLimit: capacity + 10 }));
  const { provider, exporter } = stockProvider(views);
  const h = provider.getMeter('bench').createHistogram(SERIES_METRIC, { unit: 'By' });
  const { server, url } = await listen((req, res) => exporter.getMetricsRequestHandler(req, res));
  return {
    url,
    addSeries(from, to) {
      for (let i = from; i < to; i++) {
        const labels = { object_key: objectKey(i) };
        for (const v of values(i)) h.record(v, labels);
      }
    },
    close: async () => {
      await closeServer(server);
      await provider.shutdown();
    },
  };
}

/** Scrapes once over a keep-alive connection: elapsed milliseconds (request to last body byte) and body bytes. */
export async function scrapeOnce(url: string, agent: Agent): Promise<{ ms: number; bytes: number }> {
  const t0 = nowNs();
  const res = await request(url, { dispatcher: agent });
  // Read as Prometheus does, streaming (the body is not kept: no client-side copy of it in the measured process).
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  const ms = (nowNs() - t0) / 1e6;
  if (res.statusCode !== 200) throw new Error(`scrape of ${url} answered ${res.statusCode}`);
  return { ms, bytes };
}

/**
 * Case 3: median time of a scrape of `n` histogram series over HTTP, the body size, and the longest event-loop
 * block during a scrape (what every other request of the host waits for).
 */
export async function scrapeCase(impl: SeriesImpl, n: number, scrapes: number): Promise<Record<string, number>> {
  const target = await seriesTarget(impl, n);
  target.addSeries(0, n);
  const agent = new Agent({ connections: 1 });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    await scrapeOnce(target.url, agent); // first scrape: builds caches, warms up
    await scrapeOnce(target.url, agent);
    const times: number[] = [];
    const blocks: number[] = [];
    let bytes = 0;
    delay.enable();
    for (let i = 0; i < scrapes; i++) {
      delay.reset();
      const r = await scrapeOnce(target.url, agent);
      blocks.push(delay.max / 1e6);
      times.push(r.ms);
      bytes = r.bytes;
    }
    return { ms: median(times), bytes, blockMs: median(blocks) };
  } finally {
    delay.disable();
    await agent.close();
    await target.close();
  }
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

/** Case 6: heap and RSS growth per 10,000 series (series created, recorded into and scraped once). */
export async function memoryCase(impl: SeriesImpl, n: number): Promise<Record<string, number>> {
  const target = await seriesTarget(impl, n);
  const agent = new Agent({ connections: 1 });
  try {
    target.addSeries(0, 1); // the implementation's one-off structures are not per-series costs
    await scrapeOnce(target.url, agent);
    const before = await usage();
    target.addSeries(1, n + 1);
    await scrapeOnce(target.url, agent);
    const after = await usage();
    const scale = 10_000 / n;
    return { heap: (after.heap - before.heap) * scale, rss: (after.rss - before.rss) * scale };
  } finally {
    await agent.close();
    await target.close();
  }
}
