import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import protobuf from 'protobufjs';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { NativeBuckets, bucketIndex } from '../src/store/native-histogram.js';
import { exponentialValue, snapshot } from '../src/otel/exponential-points.js';
import { decodeFamilies, get } from './helpers/protobuf.js';
import { grpcReceiver, otlpReceiver } from './helpers/otlp.js';

/*
 * Issue 21 item 5: with OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram,
 * OTLP pushes carry each catalog histogram as an ExponentialHistogram too. What arrives at a real receiver is decoded
 * with protobufjs and the published OTLP schema (fixtures/otlp-metrics.proto), or parsed as OTLP/JSON, and the
 * buckets are checked against the OpenTelemetry definition: bucket j of scale s holds (2^(j/2^s), 2^((j+1)/2^s)].
 */

const METRIC = 'tuist_runs_duration_milliseconds';
const EXP = { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' };
const root = protobuf.loadSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'otlp-metrics.proto'),
);
const Request = root.lookupType('otlp.ExportMetricsServiceRequest');

interface Point {
  attributes: { key: string; value: { stringValue?: string } }[];
  count: number;
  sum?: number;
  scale?: number;
  zeroCount?: number;
  positive?: { offset?: number; bucketCounts?: number[] };
  exemplars?: { asDouble: number; spanId: string; traceId: string }[];
  explicitBounds?: number[];
  startTimeUnixNano: string | number;
}
interface Metric {
  name: string;
  histogram?: { dataPoints: Point[]; aggregationTemporality?: string | number };
  exponentialHistogram?: { dataPoints: Point[]; aggregationTemporality?: string | number };
}

/** The metrics of an export, decoded from protobuf (schema) or OTLP/JSON into one shape (ids as hex, numbers). */
function decode(body: Buffer, json: boolean): Metric[] {
  const doc = json
    ? (JSON.parse(body.toString('utf8')) as { resourceMetrics: { scopeMetrics: { metrics: Metric[] }[] }[] })
    : (Request.toObject(Request.decode(body), { longs: Number, enums: Number, bytes: String, defaults: false }) as {
        resourceMetrics: { scopeMetrics: { metrics: Metric[] }[] }[];
      });
  const metrics = doc.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  const hex = (s: string) => (json ? s : Buffer.from(s, 'base64').toString('hex'));
  for (const m of metrics) {
    for (const p of [...(m.histogram?.dataPoints ?? []), ...(m.exponentialHistogram?.dataPoints ?? [])]) {
      p.count = Number(p.count);
      if (p.zeroCount !== undefined) p.zeroCount = Number(p.zeroCount);
      if (p.positive?.bucketCounts) p.positive.bucketCounts = p.positive.bucketCounts.map(Number);
      for (const e of p.exemplars ?? []) Object.assign(e, { spanId: hex(e.spanId), traceId: hex(e.traceId) });
    }
  }
  return metrics;
}

/** OpenTelemetry bucket index -> count of `values` (> 0) at `scale`, by the definition (a logarithm, not the store's code). */
function expectedBuckets(values: readonly number[], scale: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values) {
    const j = Math.ceil(Math.log2(v) * 2 ** scale) - 1;
    out.set(j, (out.get(j) ?? 0) + 1);
  }
  return out;
}

function buckets(p: Point): Map<number, number> {
  const out = new Map<number, number>();
  (p.positive?.bucketCounts ?? []).forEach((c, k) => c !== 0 && out.set((p.positive?.offset ?? 0) + k, c));
  return out;
}

const byName = (p: Point | undefined) =>
  p && Object.fromEntries(p.attributes.map((a) => [a.key, a.value.stringValue])).name;

/** A registered tracer provider for the duration of `fn`. */
async function withTracing<T>(fn: () => T): Promise<T> {
  const provider = new NodeTracerProvider();
  provider.register();
  try {
    return fn();
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

// Values off every bucket boundary at scale 3 (a boundary is a power of 2^(1/8)).
const BUILD = [0.3, 1.5, 7, 7.2, 150, 1000, 1234.5, 90_000];
const TEST = [20, 21, 22];

for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
  describe(`core: OTLP exponential histograms over ${protocol} (issue 21 item 5)`, () => {
    let rx: { url: string; next(): Promise<Buffer>; close(): Promise<void> };
    let t: Telemetry;
    const json = protocol === 'http/json';
    const start = async (env: Record<string, string>) => {
      if (protocol === 'grpc') rx = await grpcReceiver();
      else {
        const r = await otlpReceiver();
        rx = { url: r.url, close: r.close, next: () => r.next().then((x) => x.body) };
      }
      t = startTelemetry({
        runtimeMetrics: false,
        exportIntervalMs: 600_000,
        env: {
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
          ...env,
        },
      });
    };
    const push = async () => {
      const next = rx.next();
      await t.forceFlush();
      return decode(await next, json);
    };
    const run = (name: string, durationMs: number) => t.metrics.recordRun({ name, isCi: false, status: 0, durationMs });
    afterEach(async () => {
      await t.shutdown();
      await rx.close();
    });

    it('cumulative: the catalog histogram as an ExponentialHistogram too (scale 3, every value in its bucket, zero bucket, exemplars)', async () => {
      await start(EXP);
      const ids = await withTracing(() =>
        trace.getTracer('test').startActiveSpan('run', (span) => {
          run('build', 42);
          span.end();
          return span.spanContext();
        }),
      );
      for (const v of BUILD) run('build', v);
      run('build', 0);
      for (const v of TEST) run('test', v);
      const metrics = (await push()).filter((m) => m.name === METRIC);
      const classic = metrics.find((m) => m.histogram)!;
      const exp = metrics.find((m) => m.exponentialHistogram)!;
      expect(exp, 'an ExponentialHistogram metric of the same name').to.not.equal(undefined);
      expect(Number(exp.exponentialHistogram!.aggregationTemporality)).to.equal(2);
      const point = exp.exponentialHistogram!.dataPoints.find((p) => byName(p) === 'build')!;
      expect(point.scale).to.equal(3);
      expect(point.count).to.equal(BUILD.length + 2);
      expect(point.sum).to.be.closeTo(
        [...BUILD, 42].reduce((a, b) => a + b, 0),
        1e-6,
      );
      expect(point.zeroCount).to.equal(1);
      expect(buckets(point)).to.deep.equal(expectedBuckets([...BUILD, 42], 3));
      expect(point.exemplars?.map((e) => [e.traceId, e.spanId, e.asDouble])).to.deep.include([
        ids.traceId,
        ids.spanId,
        42,
      ]);
      const test = exp.exponentialHistogram!.dataPoints.find((p) => byName(p) === 'test')!;
      expect(buckets(test)).to.deep.equal(expectedBuckets(TEST, 3));
      expect(test.exemplars ?? []).to.deep.equal([]);
      // The documented explicit buckets are still pushed, exact, with the same start time.
      const classicPoint = classic.histogram!.dataPoints.find((p) => byName(p) === 'build')!;
      expect(classicPoint.count).to.equal(BUILD.length + 2);
      expect(classicPoint.explicitBounds!.length).to.be.greaterThan(0);
      expect(String(classicPoint.startTimeUnixNano)).to.equal(String(point.startTimeUnixNano));
    });

    it('delta: each push carries the buckets gained since the previous one; a series with nothing new is left out', async () => {
      await start({ ...EXP, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' });
      for (const v of BUILD) run('build', v);
      run('build', 0);
      run('build', 0);
      for (const v of TEST) run('test', v);
      const first = (await push()).find((m) => m.name === METRIC && m.exponentialHistogram)!;
      expect(Number(first.exponentialHistogram!.aggregationTemporality)).to.equal(1);
      expect(buckets(first.exponentialHistogram!.dataPoints.find((p) => byName(p) === 'build')!)).to.deep.equal(
        expectedBuckets(BUILD, 3),
      );
      run('build', 7.1);
      run('build', 5000);
      run('build', 0);
      const second = (await push()).find((m) => m.name === METRIC && m.exponentialHistogram)!;
      expect(second.exponentialHistogram!.dataPoints.map(byName)).to.deep.equal(['build']);
      const p = second.exponentialHistogram!.dataPoints[0]!;
      expect(p.count).to.equal(3);
      expect(p.zeroCount).to.equal(1);
      expect(buckets(p)).to.deep.equal(expectedBuckets([7.1, 5000], 3));
    });

    it('without the variable, explicit buckets only (as before)', async () => {
      await start({});
      run('build', 10);
      const metrics = (await push()).filter((m) => m.name === METRIC);
      expect(metrics.map((m) => (m.histogram ? 'histogram' : 'exponential'))).to.deep.equal(['histogram']);
    });
  });
}

describe('core: OTLP exponential histograms, settings and resolution changes (issue 21 item 5)', () => {
  it('a value the variable does not know is a start-up error naming it', () => {
    expect(() =>
      startTelemetry({
        runtimeMetrics: false,
        env: { OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'exponential' },
      }),
    ).to.throw(TelemetryConfigError, /OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION/);
  });

  it('native buckets kept only for OTLP are not served to a protobuf scrape', async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      prometheus: { port: 0, host: '127.0.0.1' },
      exportIntervalMs: 600_000,
      env: { OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, ...EXP },
    });
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 10 });
      const r = await get(t.url!, {
        Accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
      });
      const h = decodeFamilies(r.body).find((f) => f.name === METRIC)!.metric![0]!.histogram!;
      expect(h.sampleCount).to.equal(1);
      expect(h.schema).to.equal(undefined);
      expect(h.positiveSpan ?? []).to.deep.equal([]);
    } finally {
      await t.shutdown();
      await rx.close();
    }
  });

  it('a delta across a resolution reduction holds exactly the new values, at the coarser scale', () => {
    const n = new NativeBuckets({ bucketFactor: 1.1, maxBuckets: 6, zeroThreshold: 0 }, 3);
    const before = [1.05, 1.3, 2.2, 3.3];
    for (const v of before) n.observe(v);
    const last = snapshot(n);
    const after = [5.5, 9, 17, 33, 65, 1.3];
    for (const v of after) n.observe(v);
    expect(n.schema, 'the second batch reduced the resolution').to.be.lessThan(last.schema);
    const d = exponentialValue(n, last, after.length, 0);
    const got = new Map<number, number>();
    d.positive.bucketCounts.forEach((c, k) => c !== 0 && got.set(d.positive.offset + k, c));
    const expected = new Map<number, number>();
    for (const v of after) {
      const j = bucketIndex(v, n.schema) - 1;
      expected.set(j, (expected.get(j) ?? 0) + 1);
    }
    expect(d.scale).to.equal(n.schema);
    expect(got).to.deep.equal(expected);
    expect(d.positive.bucketCounts.every((c) => c >= 0)).to.equal(true);
  });
});
