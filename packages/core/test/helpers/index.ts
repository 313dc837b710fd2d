/**
 * What core's tests share, in one module: telemetry on port 0, one request to an endpoint, a scrape with an Accept
 * header, a diag logger that keeps what it is told, a registered tracer provider for a while. The decoders and
 * checkers of the formats (OTLP, protobuf, strict OpenMetrics, promtool) and the child-process apps live in the
 * modules next to this one and are exported from here too: a test imports `../helpers/index.js` alone.
 */
import { expect } from 'chai';
import http from 'node:http';
import { context, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { findPrometheus, requireService } from '@tuist-telemetry/testing';
import { startTelemetry, TelemetryConfigError, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import {
  catalog,
  HIGH_CARDINALITY_LABELS,
  logger,
  MetricStore,
  RateLimitedLogger,
  type MetricDefinition,
} from '@tuist-telemetry/core/internal';
import { resolveConfig } from '../../src/config/index.js';
import type { HistogramSeries, StoreOptions } from '../../src/store/store.js';
import { WAIT_MS, within } from './bounded.js';

export * from './bounded.js';
export * from './child-app.js';
export * from './cluster.js';
export * from './cluster-channel.js';
export * from './cluster-primary.js';
export * from './consistency.js';
export * from './context-manager.js';
export * from './kinds.js';
export * from './openmetrics-strict.js';
export * from './otlp.js';
export * from './promtool.js';
export * from './protobuf.js';

/** What Prometheus 2.42 sends (it asks for OpenMetrics first). */
export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Skips the test outside CI when no Prometheus binary is installed (fails it in CI). */
export function requirePrometheus(ctx: Mocha.Context): void {
  requireService(
    ctx,
    'Prometheus',
    findPrometheus() !== undefined,
    'apt-get install prometheus, or set PROMETHEUS_BIN',
  );
}

/**
 * startTelemetry() for a test: the endpoint on 127.0.0.1, port 0 (read it back from `t.port`/`t.url`), no runtime
 * metrics, no global MeterProvider; `options` on top (`options.prometheus` merged into the endpoint's).
 */
export function startLocal(options: TelemetryOptions = {}): Telemetry {
  return startTelemetry({
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
    ...options,
    prometheus: { port: 0, host: '127.0.0.1', ...options.prometheus },
  });
}

/**
 * Telemetry that pushes the catalog over OTLP only (no endpoint) to the receiver at `url` with `protocol`, when
 * flushed (the interval is 10 minutes unless `options` set it); `options.env` on top of the OTLP variables.
 */
export function startPushing(url: string, protocol: string, options: TelemetryOptions = {}): Telemetry {
  return startTelemetry({
    runtimeMetrics: false,
    exportIntervalMs: 600_000,
    ...options,
    env: {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      ...options.env,
    },
  });
}

/** startLocal(), once its endpoint listens (bounded: an endpoint that never listens fails the test at once). */
export async function startReady(options: TelemetryOptions = {}): Promise<Telemetry> {
  const t = startLocal(options);
  await within(t.ready(), 'the endpoint listening (ready())');
  return t;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as sent (no automatic decompression). */
  body: Buffer;
}

/**
 * One request on a fresh connection; `path` replaces the URL's path (a query string, another path). Bounded: when
 * nothing comes for WAIT_MS (a response that never starts or stalls), it is aborted and rejects saying so.
 */
export function send(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .request(
        {
          host: u.hostname,
          port: u.port,
          path: opts.path ?? u.pathname + u.search,
          method: opts.method ?? 'GET',
          headers: opts.headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      )
      .setTimeout(WAIT_MS, function (this: http.ClientRequest) {
        this.destroy(new Error(`no response to ${opts.method ?? 'GET'} ${url} within ${WAIT_MS} ms`));
      })
      .on('error', reject)
      .end();
  });
}

/** One GET with the given headers (no automatic decompression: the body as sent). */
export function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(url, { headers });
}

/** The body of a scrape of `t` that asks for `accept`, which must be answered 200. */
export async function scrapeAs(t: Telemetry, accept: string): Promise<string> {
  const signal = AbortSignal.timeout(WAIT_MS);
  const body = await fetch(t.url!, { headers: { Accept: accept }, signal })
    .then(async (res) => ({ status: res.status, text: await res.text() }))
    .catch((e: unknown) => {
      throw signal.aborted ? new Error(`no scrape of ${t.url} within ${WAIT_MS} ms (Accept: ${accept})`) : e;
    });
  expect(body.status, body.text.slice(0, 300)).to.equal(200);
  return body.text;
}

/** The lines of `body` that belong to family `name` (its HELP, TYPE and samples). */
export function linesOf(body: string, name: string): string[] {
  return body
    .split('\n')
    .filter((l) => l.startsWith(name) || l.startsWith(`# HELP ${name}`) || l.startsWith(`# TYPE ${name}`));
}

/** How keepingLogger spells an argument: never throws, even for an object whose toString throws. */
function spell(a: unknown): string {
  if (typeof a === 'string') return a;
  if (a instanceof Error) return a.message;
  try {
    return String(a);
  } catch {
    return typeof a;
  }
}

/**
 * A diag logger that keeps errors and warnings (asserted, not printed): each as its arguments joined by spaces, an
 * Error by its message. Give `lines` to share one array between set-ups.
 */
export function keepingLogger(lines: string[] = []): { logger: DiagLogger; errors: string[] } {
  const keep = (...args: unknown[]) => void lines.push(args.map(spell).join(' '));
  return { logger: { error: keep, warn: keep, info() {}, debug() {}, verbose() {} }, errors: lines };
}

/** A registered tracer provider (context manager included) for the duration of `fn`, then no tracing at all. */
export async function withTracing<T>(provider: NodeTracerProvider, fn: () => T | Promise<T>): Promise<T> {
  provider.register();
  try {
    return await fn();
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

/** A `MetricsEndpoint` on a free local port with generous limits, for tests that start the endpoint alone. */
export const LOCAL_ENDPOINT = {
  host: '127.0.0.1',
  port: 0,
  writeTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConcurrentScrapes: 10,
} as const;

/** A store's options as telemetry's defaults make them: documented names, high-cardinality labels off, 1,000 values. */
export const STORE_OPTIONS: StoreOptions = {
  naming: 'docs',
  highCardinality: new Set(HIGH_CARDINALITY_LABELS),
  enabledHighCardinality: new Set(),
  maxLabelValues: 1000,
  warn: new RateLimitedLogger(logger('test')),
};

/** A store of the whole catalog with STORE_OPTIONS. */
export const newStore = (): MetricStore => new MetricStore(catalog, STORE_OPTIONS);

/** The series of `name` whose labels are `labels` (a label left out: the empty value), if the store has it. */
export function seriesOf(store: MetricStore, name: string, labels: Record<string, string>) {
  const f = store.families.find((x) => x.def.name === name)!;
  return [...f.series].find((s) => f.labelNames.every((l, i) => (labels[l] ?? '') === s.labelValues[i]));
}

/** The value of that series (a histogram's: its count). */
export function valueIn(store: MetricStore, name: string, labels: Record<string, string>): number | undefined {
  const s = seriesOf(store, name, labels);
  return s === undefined ? undefined : 'value' in s ? (s.value as number) : (s as HistogramSeries).count;
}

/** The message of the TelemetryConfigError that resolving `options` throws (fails the test if it throws none). */
export function mistake(options: TelemetryOptions): string {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err, (err as Error).stack).to.be.instanceOf(TelemetryConfigError);
    return (err as Error).message;
  }
  expect.fail(`no error for ${JSON.stringify(options)}`);
}

/** A warning a store gave: its dedupe key and its message. */
export interface Warned {
  key: string;
  message: string;
}

/**
 * A store of `defs` (documented names, no high-cardinality labels, `maxLabelValues` values per label) and the
 * warnings it gives, kept in order (not logged).
 */
export function storeWithWarnings(
  defs: MetricDefinition[],
  maxLabelValues = 1000,
): { s: MetricStore; warned: Warned[] } {
  const warned: Warned[] = [];
  const warn = new RateLimitedLogger(logger('test'));
  // Kept, not printed: the tests assert them (printed, they are diag lines no test captured).
  warn.warn = (key: string, message: string) => void warned.push({ key, message });
  const s = new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues,
    warn,
  });
  return { s, warned };
}
