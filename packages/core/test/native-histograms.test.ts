import { expect } from 'chai';
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { findPrometheus, requireService, startPrometheus, type PrometheusServer } from '@tuist-telemetry/testing';
import { createMetricReader, getTelemetry, startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { resolveConfig } from '../src/config/index.js';
import { NATIVE_DEFAULTS, NativeBuckets, bucketIndex, schemaForFactor } from '../src/store/native-histogram.js';
import {
  PROMETHEUS_PROTOBUF_ACCEPT,
  decodeFamilies,
  get,
  protobufSamples,
  textSamples,
  type PbHistogram,
} from './helpers/protobuf.js';

const HISTOGRAM = 'tuist_runs_duration_milliseconds';

/** The bucket index of v at `schema` by the definition: the i with base^(i-1) < v <= base^i, base = 2^(2^-schema). */
function bucketOf(v: number, schema: number): number {
  // base^i as 2^(i * 2^-schema): exact at the powers of two.
  const bound = (i: number) => 2 ** (i * 2 ** -schema);
  let i = Math.round(Math.log2(v) * 2 ** schema);
  while (bound(i) < v) i++;
  while (bound(i - 1) >= v) i--;
  return i;
}

/** The counts of a decoded native histogram by bucket index (spans and deltas expanded). */
function nativeCounts(h: PbHistogram): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0;
  let d = 0;
  let count = 0;
  for (const span of h.positiveSpan ?? []) {
    index += span.offset ?? 0;
    for (let k = 0; k < (span.length ?? 0); k++) {
      count += h.positiveDelta![d++]!;
      if (count !== 0) out.set(index, count);
      index++;
    }
  }
  expect(d, 'every delta belongs to a span').to.equal((h.positiveDelta ?? []).length);
  return out;
}

/** What the buckets should hold for `values` at `schema` (none at or below the zero threshold). */
function expectedCounts(values: readonly number[], schema: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values)
    if (v > NATIVE_DEFAULTS.zeroThreshold) out.set(bucketOf(v, schema), (out.get(bucketOf(v, schema)) ?? 0) + 1);
  return out;
}

const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);

/** Runs `fn` inside a sampled span of a registered tracer provider; returns the span's context. */
async function traced(fn: () => void): Promise<{ traceId: string; spanId: string }> {
  const provider = new NodeTracerProvider();
  provider.register();
  try {
    return trace.getTracer('test').startActiveSpan('run', (span) => {
      fn();
      span.end();
      return span.spanContext();
    });
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

describe('core: native histograms (issue 21 item 2)', () => {
  it('the schema is the finest whose growth factor stays within the bucket factor (-4..8)', () => {
    expect(schemaForFactor(1.1)).to.equal(3);
    expect(schemaForFactor(2)).to.equal(0);
    expect(schemaForFactor(4)).to.equal(-1);
    expect(schemaForFactor(1.0905077326652577)).to.equal(3);
    expect(schemaForFactor(1.09)).to.equal(4);
    expect(schemaForFactor(1.00001)).to.equal(8);
    expect(schemaForFactor(65536)).to.equal(-4);
  });

  it("the bucket index (from the bits, no logarithm) is the definition's at every schema, on and next to the bounds", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // Subnormals (below any zero threshold but 0) take the logarithm; the smallest is 2^-1074.
    expect(bucketIndex(5e-324, 0)).to.equal(-1074);
    expect(bucketIndex(5e-324, 3)).to.equal(-1074 * 8);
    const values: number[] = [2 ** -1022, 1, 2, 0.5, 3, 1.5, Number.MAX_VALUE];
    for (let i = 0; i < 3000; i++) values.push(2 ** (random() * 80 - 40), 1 + random());
    for (let schema = -4; schema <= 8; schema++) {
      // Every bound of the schema around 1 and a little above and below it.
      for (let i = -20; i <= 20; i++) {
        const b = 2 ** (i * 2 ** -schema);
        values.push(b, b * (1 + 2 ** -50), b * (1 - 2 ** -50));
      }
      for (const v of values) expect(bucketIndex(v, schema), `${v} at schema ${schema}`).to.equal(bucketOf(v, schema));
    }
  });

  it('each value lands in the bucket whose bounds hold it; zero and tiny values in the zero bucket', () => {
    const n = new NativeBuckets(NATIVE_DEFAULTS, 3);
    const values = [0, 2 ** -130, 1e-9, 0.25, 0.5, 1, 1.0905, 2, 2.0000001, 3, 100, 123.456, 1e6, 8e9];
    for (const v of values) n.observe(v);
    expect(n.zeroCount).to.equal(2);
    expect(n.schema).to.equal(3);
    const { spans, deltas } = n.spans();
    const got = nativeCounts({
      positiveSpan: spans.map(([offset, length]) => ({ offset, length })),
      positiveDelta: deltas,
    });
    expect(sorted(got)).to.deep.equal(sorted(expectedCounts(values, 3)));
  });

  it('a range too wide for 4096 buckets halves the resolution too (bounded memory), counts kept', () => {
    const n = new NativeBuckets(NATIVE_DEFAULTS, 3);
    const values = [1e-9, 1, 1e30, 1.7e300];
    for (const v of values) n.observe(v);
    expect(n.schema).to.be.lessThan(3);
    expect(n.counts.length).to.be.at.most(4096 * 2);
    const { spans, deltas } = n.spans();
    const got = nativeCounts({
      positiveSpan: spans.map(([offset, length]) => ({ offset, length })),
      positiveDelta: deltas,
    });
    expect(sorted(got)).to.deep.equal(sorted(expectedCounts(values, n.schema)));
  });

  it('past maxBuckets populated buckets the resolution halves until they fit, counts kept', () => {
    const n = new NativeBuckets({ ...NATIVE_DEFAULTS, maxBuckets: 5 }, 3);
    const values = Array.from({ length: 200 }, (_, i) => 1 + i * 3.7);
    for (const v of values) n.observe(v);
    expect(n.schema).to.be.lessThan(3);
    expect(n.populated).to.be.at.most(5);
    const { spans, deltas } = n.spans();
    const got = nativeCounts({
      positiveSpan: spans.map(([offset, length]) => ({ offset, length })),
      positiveDelta: deltas,
    });
    expect(sorted(got)).to.deep.equal(sorted(expectedCounts(values, n.schema)));
    expect([...got.values()].reduce((a, b) => a + b, 0)).to.equal(200);
  });

  it('TUIST_TELEMETRY_NATIVE_HISTOGRAMS turns them on (off by default); bad settings fail start-up', () => {
    expect(resolveConfig({ env: {} }).nativeHistograms).to.equal(undefined);
    expect(resolveConfig({ env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' } }).nativeHistograms).to.deep.equal(
      NATIVE_DEFAULTS,
    );
    expect(resolveConfig({ env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'false' } }).nativeHistograms).to.equal(undefined);
    expect(resolveConfig({ env: {}, nativeHistograms: { bucketFactor: 2 } }).nativeHistograms?.bucketFactor).to.equal(
      2,
    );
    expect(() => resolveConfig({ env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'yes' } })).to.throw(
      /TUIST_TELEMETRY_NATIVE_HISTOGRAMS must be true or false/,
    );
    expect(() => resolveConfig({ env: {}, nativeHistograms: { bucketFactor: 1 } })).to.throw(/bucketFactor/);
    expect(() => resolveConfig({ env: {}, nativeHistograms: { maxBuckets: 0 } })).to.throw(/maxBuckets/);
  });

  describe('served in the protobuf Histogram beside the classic buckets', () => {
    let t: Telemetry;
    const values = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 3001) + 0.25);
    let sc: { traceId: string; spanId: string };
    before(async () => {
      t = startTelemetry({
        prometheus: { port: 0, host: '127.0.0.1' },
        runtimeMetrics: false,
        setGlobalMeterProvider: false,
        env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' },
      });
      await t.ready();
      for (const v of values) t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: v });
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 0 });
      sc = await traced(() => t.metrics.recordRun({ name: 'traced', isCi: true, status: 0, durationMs: 42 }));
    });
    after(() => t.shutdown());

    it('schema 3, zero bucket, spans and deltas that expand to every recorded value; classic buckets as text', async () => {
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const h = families.find((f) => f.name === HISTOGRAM)!.metric![0]!.histogram!;
      expect(h.schema).to.equal(3);
      expect(h.zeroThreshold).to.equal(2 ** -128);
      expect(h.zeroCount).to.equal(1);
      expect(h.sampleCount).to.equal(501);
      expect(h.schema).to.equal(3);
      expect(sorted(nativeCounts(h))).to.deep.equal(sorted(expectedCounts(values, 3)));
      // The bucket exemplars again in `exemplars` (field 16, a two-byte key), where native histograms keep theirs.
      const tracedH = families
        .find((f) => f.name === HISTOGRAM)!
        .metric!.find((m) => m.label!.some((l) => l.value === 'traced'))!.histogram!;
      expect(tracedH.exemplars!.map((e) => [e.label, e.value])).to.deep.equal([
        [
          [
            { name: 'trace_id', value: sc.traceId },
            { name: 'span_id', value: sc.spanId },
          ],
          42,
        ],
      ]);
      expect(h.exemplars).to.equal(undefined);
      const text = textSamples((await get(t.url!, { Accept: 'text/plain' })).body.toString()).samples;
      const pb = protobufSamples(families);
      expect(Object.fromEntries([...pb].sort())).to.deep.equal(Object.fromEntries([...text].sort()));
    });
  });

  it('a third-party histogram whose View asks for exponential buckets is served as a native histogram (protobuf only)', async () => {
    const warnings: string[] = [];
    const keep = (...a: unknown[]) => warnings.push(a.map(String).join(' '));
    diag.setLogger({ error: keep, warn: keep, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    const reader = createMetricReader({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, env: {} });
    const provider = new MeterProvider({
      readers: [reader],
      views: [{ instrumentName: 'lib.exp*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const t = getTelemetry()!;
    try {
      await t.ready();
      const values = [0, 1, 2, 3, 100, 1000, 0.001, 7.5];
      const h = provider.getMeter('lib').createHistogram('lib.exp');
      for (const v of values) h.record(v, { op: 'read' });
      // Values this close keep OpenTelemetry at its finest scale, 20.
      const narrow = [1, 1.0001, 1.001, 1.002];
      const hn = provider.getMeter('lib').createHistogram('lib.exp_narrow');
      for (const v of narrow) hn.record(v);
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const f = families.find((x) => x.name === 'lib_exp')!;
      expect(f.type).to.equal('HISTOGRAM');
      expect(f.metric![0]!.label).to.deep.equal([{ name: 'op', value: 'read' }]);
      const nh = f.metric![0]!.histogram!;
      // OpenTelemetry's 160 buckets over 20 binary orders: scale 3, Prometheus' schema 3.
      expect(nh.schema).to.equal(3);
      expect(nh.zeroCount).to.equal(1);
      expect(nh.sampleCount).to.equal(values.length);
      expect(nh.sampleSum).to.be.closeTo(
        values.reduce((a, b) => a + b, 0),
        1e-9,
      );
      expect(sorted(nativeCounts(nh))).to.deep.equal(sorted(expectedCounts(values, 3)));
      // A scale finer than 8 is merged down to Prometheus' finest schema, 8.
      const nn = families.find((x) => x.name === 'lib_exp_narrow')!.metric![0]!.histogram!;
      expect(nn.schema).to.equal(8);
      expect(sorted(nativeCounts(nn))).to.deep.equal(sorted(expectedCounts(narrow, 8)));
      // The text formats cannot carry it: left out there, with a warning.
      const text = (await get(t.url!, { Accept: 'text/plain' })).body.toString();
      expect(text).to.not.contain('lib_exp');
      expect(warnings.some((w) => w.includes('"lib_exp" was not exported'))).to.equal(true);
    } finally {
      await provider.shutdown();
      await t.shutdown();
      diag.disable();
    }
  });

  it('off by default: no native fields, no native state on the series', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      env: {},
    });
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 5 });
      expect([...t.store.histogram(HISTOGRAM).series][0]!.native).to.equal(undefined);
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const h = families.find((f) => f.name === HISTOGRAM)!.metric![0]!.histogram!;
      expect(h.schema).to.equal(undefined);
      expect(h.zeroThreshold).to.equal(undefined);
      expect(h.positiveSpan).to.equal(undefined);
    } finally {
      await t.shutdown();
    }
  });
});

describe('core: a real Prometheus 2.42 stores the native histograms', function () {
  this.timeout(120_000);
  let t: Telemetry | undefined;
  let prom: PrometheusServer | undefined;
  after(async () => {
    await prom?.stop();
    await t?.shutdown();
  });

  it('histogram_count is what was recorded; histogram_quantile(0.5) within the schema error of the true median', async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'apt-get install prometheus, or set PROMETHEUS_BIN',
    );
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' },
    });
    await t.ready();
    // A known distribution: 1001 values, 1 ms to 10 s spread geometrically; the median is the 501st.
    const values = Array.from({ length: 1001 }, (_, i) => 10 ** (i / 250));
    for (const v of values) t.metrics.recordRun({ name: 'native', isCi: false, status: 0, durationMs: v });
    const median = [...values].sort((a, b) => a - b)[500]!;
    const sc = await traced(() => t!.metrics.recordRun({ name: 'traced', isCi: false, status: 0, durationMs: 150 }));
    prom = await startPrometheus({
      targets: [`127.0.0.1:${t.port}`],
      flags: ['--enable-feature=native-histograms', '--enable-feature=exemplar-storage'],
    });
    const sel = `${HISTOGRAM}{name="native"}`;
    let count: number | undefined;
    for (let i = 0; i < 40 && count === undefined; i++) {
      const v = await prom.vector(`histogram_count(${sel})`);
      if (v.length === 1) count = Number(v[0]!.value[1]);
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(count).to.equal(1001);
    const q = await prom.vector(`histogram_quantile(0.5, ${sel})`);
    expect(q).to.have.length(1);
    const estimate = Number(q[0]!.value[1]);
    // Schema 3: a bucket spans a factor of 2^(1/8), so the estimate is within that factor of the true median.
    const base = 2 ** (1 / 8);
    expect(estimate).to.be.within(median / base, median * base);
    const sum = await prom.vector(`histogram_sum(${sel})`);
    expect(Number(sum[0]!.value[1])).to.be.closeTo(
      values.reduce((a, b) => a + b, 0),
      1e-6,
    );
    // With exemplar storage on, the exemplar of a record inside a sampled span arrives on the native series.
    const ex = await prom.exemplars(`${HISTOGRAM}{name="traced"}`);
    expect(
      ex.flatMap((e) =>
        e.exemplars.map((x) => [e.seriesLabels.__name__, x.labels.trace_id, x.labels.span_id, x.value]),
      ),
    ).to.deep.equal([[HISTOGRAM, sc.traceId, sc.spanId, '150']]);
  });
});
