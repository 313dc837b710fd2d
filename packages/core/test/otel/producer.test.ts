import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { HrTime } from '@opentelemetry/api';
import { catalog, MetricStore } from '@tuist-telemetry/core/internal';
import { NATIVE_DEFAULTS } from '../../src/store/native-histogram.js';
import { pointExemplars } from '../../src/otel/otlp-exemplars.js';
import { StoreMetricProducer } from '../../src/otel/producer.js';
import type { TemporalityPreference } from '../../src/config/index.js';
import { coreDir, STORE_OPTIONS } from '../helpers/index.js';

const CORE_VERSION = (JSON.parse(readFileSync(path.join(coreDir, 'package.json'), 'utf8')) as { version: string })
  .version;

/*
 * StoreMetricProducer in-process (issue 26): what a push exporter is handed for the catalog, read straight from the
 * MetricData, collection by collection. The same over a real OTLP receiver is in temporality.test.ts and
 * otlp-exemplars.test.ts; here every field is checked, and quickly.
 */

const RUNS = 'tuist_runs_total';
const DURATIONS = 'tuist_runs_duration_milliseconds';
const RUN = { name: 'build', is_ci: 'true', status: '0' };
const TEST = { name: 'test', is_ci: 'false', status: '1' };
const POOL = 'tuist_repo_pool_db_connection_connected';

const toMs = ([s, ns]: HrTime) => s * 1000 + ns / 1e6;

function setup(preference?: TemporalityPreference, exponential = false, native = exponential) {
  const store = new MetricStore(catalog, {
    ...STORE_OPTIONS,
    ...(native ? { nativeHistograms: NATIVE_DEFAULTS } : {}),
  });
  const producer = new StoreMetricProducer(store, preference, exponential);
  const collect = async () => {
    const { resourceMetrics, errors } = await producer.collect();
    expect(errors).to.deep.equal([]);
    expect(resourceMetrics.scopeMetrics).to.have.length(1);
    // The instrumentation scope names core and its version.
    expect(resourceMetrics.scopeMetrics[0]!.scope).to.deep.equal({
      name: '@tuist-telemetry/core',
      version: CORE_VERSION,
    });
    const metrics = resourceMetrics.scopeMetrics[0]!.metrics;
    const get = (name: string, type?: DataPointType): MetricData | undefined =>
      metrics.find((m) => m.descriptor.name === name && (type === undefined || m.dataPointType === type));
    return { metrics, get, resource: resourceMetrics.resource };
  };
  return { store, collect };
}

const histogramPoints = (m: MetricData | undefined) => (m?.dataPoints ?? []) as DataPoint<Histogram>[];
const valuePoints = (m: MetricData | undefined) => (m?.dataPoints ?? []) as DataPoint<number>[];
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('core: the catalog handed to push exporters, field by field (StoreMetricProducer, issue 26)', () => {
  it('cumulative: documented name, description and unit, the scope, the labels set, a start time in ms precision', async () => {
    const { store, collect } = setup();
    const before = Date.now();
    store.counter(RUNS).add(2, { name: 'build', is_ci: 'true', status: '0' });
    store.counter(RUNS).add(1, { name: 'test' });
    // An optional label left out is not sent as an empty attribute.
    store.counter(POOL).add(1, { repo: 'main' });
    store.counter(POOL).add(1);
    store.histogram(DURATIONS).record(150, RUN);
    store.histogram(DURATIONS).record(5000, RUN);
    const { metrics, get, resource } = await collect();
    const after = Date.now();
    expect(Object.keys(resource.attributes)).to.deep.equal([]);
    const runs = get(RUNS)!;
    const def = catalog.find((d) => d.name === RUNS)!;
    expect(runs.descriptor).to.deep.include({ name: RUNS, description: def.description, unit: def.unit ?? '' });
    expect(runs.dataPointType).to.equal(DataPointType.SUM);
    expect(runs.aggregationTemporality).to.equal(AggregationTemporality.CUMULATIVE);
    expect((runs as { isMonotonic?: boolean }).isMonotonic).to.equal(true);
    expect(valuePoints(runs).map((p) => [p.attributes, p.value])).to.deep.equal([
      [{ name: 'build', is_ci: 'true', status: '0' }, 2],
      [{ name: 'test', is_ci: 'unknown', status: 'unknown' }, 1],
    ]);
    expect(valuePoints(get(POOL)).map((p) => p.attributes)).to.have.deep.members([{ repo: 'main' }, {}]);
    const durations = get(DURATIONS)!;
    const ddef = catalog.find((d) => d.name === DURATIONS)!;
    expect(durations.descriptor.unit).to.equal(ddef.unit);
    expect(durations.dataPointType).to.equal(DataPointType.HISTOGRAM);
    const [p] = histogramPoints(durations);
    expect(p!.value.buckets.boundaries).to.deep.equal(ddef.buckets);
    expect(p!.value.count).to.equal(2);
    expect(p!.value.sum).to.equal(5150);
    expect(p!.value.buckets.counts.reduce((a, b) => a + b, 0)).to.equal(2);
    expect(p!.value.buckets.counts[1]).to.equal(1);
    expect(p!.value.buckets.counts.at(-1)).to.equal(0);
    // Times: the series' start, in [seconds, nanoseconds], and the collection's time as the end.
    for (const point of [...valuePoints(runs), p!]) {
      const [sec, ns] = point.startTime;
      expect(Number.isInteger(sec) && Number.isInteger(ns) && ns >= 0 && ns < 1e9, `${point.startTime}`).to.equal(true);
      expect(toMs(point.startTime)).to.be.within(before, after);
      expect(toMs(point.endTime)).to.be.within(toMs(point.startTime), after);
    }
    // Families with no series are not sent; a metric without a unit gets ''.
    expect(metrics.every((m) => m.dataPoints.length > 0)).to.equal(true);
    const empty = store.families.filter((f) => f.series.size === 0);
    expect(empty.length).to.be.greaterThan(0);
    for (const f of empty) expect(get(f.name), f.name).to.equal(undefined);
    const unitless = catalog.find((d) => d.type === 'counter' && d.unit === undefined && d.labels.length === 0);
    if (unitless) {
      store.counter(unitless.name).add(1);
      expect((await collect()).get(unitless.name)!.descriptor.unit).to.equal('');
    }
  });

  it('the start time is the series start to the millisecond (seconds and nanoseconds split right)', async () => {
    const { store, collect } = setup();
    store.counter(RUNS).add(1, RUN);
    // A start late in its second (rounding the seconds would be a second off, with negative nanoseconds).
    const series = [...store.counter(RUNS).series][0]!;
    Object.defineProperty(series, 'start', { value: 1_700_000_000_750 });
    expect(valuePoints((await collect()).get(RUNS))[0]!.startTime).to.deep.equal([1_700_000_000, 750_000_000]);
  });

  it('runs the collect callbacks first, so an observed value is current', async () => {
    const { store, collect } = setup();
    const gauge = catalog.find((d) => d.type === 'gauge' && d.labels.length === 0)!;
    let n = 0;
    store.onCollect(() => store.gauge(gauge.name).set(++n));
    const first = await collect();
    expect(valuePoints(first.get(gauge.name))[0]!.value).to.equal(1);
    expect(first.get(gauge.name)!.dataPointType).to.equal(DataPointType.GAUGE);
  });

  it('delta: the first export has everything (zero-valued series too), then only what is new, from the last export on', async () => {
    const { store, collect } = setup('delta');
    store.counter(RUNS).add(0, RUN);
    store.counter(RUNS).add(3, TEST);
    store.histogram(DURATIONS).record(150, RUN);
    store.histogram(DURATIONS).record(5000, RUN);
    await tick(20);
    const first = await collect();
    const runs = first.get(RUNS)!;
    expect(runs.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(valuePoints(runs).map((p) => p.value)).to.deep.equal([0, 3]);
    const h1 = histogramPoints(first.get(DURATIONS))[0]!;
    expect(first.get(DURATIONS)!.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(h1.value.count).to.equal(2);
    const series = [...store.histogram(DURATIONS).series][0]!;
    expect(toMs(h1.startTime)).to.equal(series.start);
    const firstEnd = toMs(h1.endTime);
    await tick(5);
    store.counter(RUNS).add(2, TEST);
    store.histogram(DURATIONS).record(150, RUN);
    store.histogram(DURATIONS).record(7, RUN);
    const second = await collect();
    expect(valuePoints(second.get(RUNS)).map((p) => [p.attributes, p.value])).to.deep.equal([[TEST, 2]]);
    const h2 = histogramPoints(second.get(DURATIONS))[0]!;
    expect(h2.value.count).to.equal(2);
    expect(h2.value.sum).to.equal(157);
    expect(h2.value.buckets.counts[0]).to.equal(1);
    expect(h2.value.buckets.counts[1]).to.equal(1);
    expect(h2.value.buckets.counts.reduce((a, b) => a + b, 0)).to.equal(2);
    // The interval starts where the last export ended (the same clock reading).
    expect(toMs(h2.startTime)).to.be.within(firstEnd - 1, firstEnd + 1);
    expect(toMs(valuePoints(second.get(RUNS))[0]!.startTime)).to.be.within(firstEnd - 1, firstEnd + 1);
    // Nothing new: neither metric is sent (not even empty).
    const third = await collect();
    expect(third.get(RUNS)).to.equal(undefined);
    expect(third.get(DURATIONS)).to.equal(undefined);
  });

  it('lowmemory: histograms and synchronous counters delta, the runtime counters cumulative; gauges never delta', async () => {
    const { store, collect } = setup('lowmemory');
    const runtimeCounter = catalog.find((d) => d.type === 'counter' && d.family === 'runtime')!;
    const gauge = catalog.find((d) => d.type === 'gauge' && d.labels.length === 0)!;
    store.counter(runtimeCounter.name).add(5, {});
    store.counter(RUNS).add(1, RUN);
    store.histogram(DURATIONS).record(1, RUN);
    store.gauge(gauge.name).set(4);
    const first = await collect();
    expect(first.get(runtimeCounter.name)!.aggregationTemporality).to.equal(AggregationTemporality.CUMULATIVE);
    expect(first.get(RUNS)!.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(first.get(DURATIONS)!.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(first.get(gauge.name)!.aggregationTemporality).to.equal(AggregationTemporality.CUMULATIVE);
    store.counter(runtimeCounter.name).add(1, {});
    const second = await collect();
    expect(valuePoints(second.get(runtimeCounter.name))[0]!.value, 'the total, not the difference').to.equal(6);
    expect(valuePoints(second.get(gauge.name))[0]!.value, 'a gauge is sent each time').to.equal(4);
    expect(second.get(RUNS)).to.equal(undefined);
    // delta: the runtime counter is delta too, and the gauge still is not.
    const d = setup('delta');
    d.store.counter(runtimeCounter.name).add(5, {});
    d.store.gauge(gauge.name).set(4);
    const df = await d.collect();
    expect(df.get(runtimeCounter.name)!.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(df.get(gauge.name)!.aggregationTemporality).to.equal(AggregationTemporality.CUMULATIVE);
    d.store.counter(runtimeCounter.name).add(1, {});
    expect(valuePoints((await d.collect()).get(runtimeCounter.name))[0]!.value).to.equal(1);
  });

  it('exemplars: cumulative sends every bucket’s latest; delta only those kept since the last export', async () => {
    const ex = (value: number, spanId: string) => ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId,
      value,
      timestamp: 1_700_000_000_000,
    });
    for (const preference of ['cumulative', 'delta'] as const) {
      const { store, collect } = setup(preference);
      store.histogram(DURATIONS).record(150, RUN);
      const s = [...store.histogram(DURATIONS).series][0]!;
      s.exemplars = [];
      s.exemplars[1] = ex(150, 'b7ad6b7169203331');
      const p1 = histogramPoints((await collect()).get(DURATIONS))[0]!;
      expect(pointExemplars.get(p1)).to.deep.equal([ex(150, 'b7ad6b7169203331')]);
      store.histogram(DURATIONS).record(5, RUN);
      s.exemplars[0] = ex(5, '00f067aa0ba902b7');
      const p2 = histogramPoints((await collect()).get(DURATIONS))[0]!;
      expect(pointExemplars.get(p2), preference).to.deep.equal(
        preference === 'cumulative'
          ? [ex(5, '00f067aa0ba902b7'), ex(150, 'b7ad6b7169203331')]
          : [ex(5, '00f067aa0ba902b7')],
      );
      // A series without exemplars: the point carries none.
      store.histogram(DURATIONS).record(5, { name: 'other' });
      const plain = histogramPoints((await collect()).get(DURATIONS)).find((p) => p.attributes.name === 'other')!;
      expect(pointExemplars.has(plain)).to.equal(false);
    }
  });

  it('exponential: each histogram also as an ExponentialHistogram of the same name, time and exemplars', async () => {
    const { store, collect } = setup('delta', true);
    store.histogram(DURATIONS).record(150, RUN);
    store.histogram(DURATIONS).record(3, RUN);
    const s = [...store.histogram(DURATIONS).series][0]!;
    s.exemplars = [];
    s.exemplars[1] = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      value: 150,
      timestamp: 1,
    };
    const first = await collect();
    const explicit = histogramPoints(first.get(DURATIONS, DataPointType.HISTOGRAM))[0]!;
    const expMetric = first.get(DURATIONS, DataPointType.EXPONENTIAL_HISTOGRAM)!;
    expect(expMetric.aggregationTemporality).to.equal(AggregationTemporality.DELTA);
    expect(expMetric.descriptor).to.deep.equal(first.get(DURATIONS, DataPointType.HISTOGRAM)!.descriptor);
    const exp = (expMetric.dataPoints as DataPoint<ExponentialHistogram>[])[0]!;
    expect(exp.attributes).to.deep.equal(RUN);
    expect(exp.startTime).to.deep.equal(explicit.startTime);
    expect(exp.endTime).to.deep.equal(explicit.endTime);
    expect(exp.value.count).to.equal(2);
    expect(exp.value.sum).to.equal(153);
    expect(pointExemplars.get(exp)).to.deep.equal(pointExemplars.get(explicit));
    store.histogram(DURATIONS).record(3, RUN);
    const second = (await collect()).get(DURATIONS, DataPointType.EXPONENTIAL_HISTOGRAM)!;
    const e2 = (second.dataPoints as DataPoint<ExponentialHistogram>[])[0]!;
    expect(e2.value.count).to.equal(1);
    expect(pointExemplars.has(e2)).to.equal(false);
    const third = await collect();
    expect(third.get(DURATIONS)).to.equal(undefined);
    // Without the option (the default), no ExponentialHistogram even when the store keeps native buckets.
    const off = setup('cumulative', false, true);
    off.store.histogram(DURATIONS).record(3, RUN);
    expect((await off.collect()).get(DURATIONS, DataPointType.EXPONENTIAL_HISTOGRAM)).to.equal(undefined);
    const byDefault = await new StoreMetricProducer(off.store).collect();
    const types = byDefault.resourceMetrics.scopeMetrics[0]!.metrics.filter((m) => m.descriptor.name === DURATIONS);
    expect(types.map((m) => m.dataPointType)).to.deep.equal([DataPointType.HISTOGRAM]);
  });

  it('pending counts (the request counters of the instrumentations) are in each export, cumulative and delta', async () => {
    for (const preference of ['cumulative', 'delta'] as const) {
      const { store, collect } = setup(preference);
      const labels = Object.freeze({ request_method: 'GET', request_host: 'example.com' });
      const sent = store.pendingCounts.of(store.counter('tuist_http_send_count'), labels);
      const exported = async () => valuePoints((await collect()).get('tuist_http_send_count')).map((p) => p.value);
      sent.inc();
      sent.inc();
      expect(await exported(), preference).to.deep.equal([2]);
      sent.inc();
      expect(await exported(), preference).to.deep.equal([preference === 'delta' ? 1 : 3]);
    }
  });
});
