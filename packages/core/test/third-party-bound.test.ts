import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { parseExposition, samples, value, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import { OVERFLOW_VALUE } from '@tuist-telemetry/core/internal';
import { fixResourceMetrics } from '../src/labels/attributes.js';

// Issue 20 items 6-8 and issue 26 (labels): the bound for instruments on telemetry.meterProvider is per instrument,
// the overflow self-metric stays bounded (and is never bounded into __overflow__ itself), and every served third-party
// label value is at most 1,024 characters. Sizes are measured by counting served series and characters.

const OVERFLOW = 'tuist_telemetry_label_overflow_total';
const warnings: string[] = [];
const capture: DiagLogger = {
  error: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
  warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

function start(options: TelemetryOptions = {}): Telemetry {
  return startTelemetry({
    prometheus: { port: 0, host: '127.0.0.1' },
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
    ...options,
  });
}

async function exposition(t: Telemetry): Promise<Exposition> {
  return parseExposition(await t.renderPrometheus());
}

const total = (exp: Exposition, name: string, labels: Record<string, string> = {}) =>
  samples(exp, name, labels).reduce((a, s) => a + s.value, 0);

describe('core: the third-party label bound is per instrument (issue 20 item 7)', () => {
  beforeEach(() => {
    warnings.length = 0;
    diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  afterEach(() => diag.disable());

  it('an instrument with 1,500 route values leaves every other instrument its own routes', async () => {
    const t = start();
    try {
      const meter = t.meterProvider.getMeter('app');
      const noisy = meter.createCounter('noisy.requests');
      for (let i = 0; i < 1500; i++) noisy.add(1, { 'http.route': `/noisy/${i}` });
      const duration = meter.createHistogram('http.server.request.duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [0.1, 1] },
      });
      const other = t.meterProvider.getMeter('other').createCounter('app.requests');
      for (const route of ['/a', '/b', '/a']) {
        duration.record(0.05, { 'http.route': route, 'http.request.method': 'GET' });
        other.add(1, { 'http.route': route });
      }
      const exp = await exposition(t);
      expect(samples(exp, 'noisy_requests_total')).to.have.length(1001);
      expect(total(exp, 'noisy_requests_total')).to.equal(1500);
      expect(value(exp, 'noisy_requests_total', { http_route: OVERFLOW_VALUE })).to.equal(500);
      expect(
        samples(exp, 'app_requests_total')
          .map((s) => [s.labels.http_route, s.value])
          .sort(),
      ).to.deep.equal([
        ['/a', 2],
        ['/b', 1],
      ]);
      expect(
        samples(exp, 'http_server_request_duration_count')
          .map((s) => [s.labels.http_route, s.value])
          .sort(),
      ).to.deep.equal([
        ['/a', 2],
        ['/b', 1],
      ]);
      expect(value(exp, OVERFLOW, { metric: 'noisy.requests', label: 'http.route' })).to.equal(500);
      expect(samples(exp, OVERFLOW).filter((s) => s.labels.metric !== 'noisy.requests')).to.deep.equal([]);
      expect(
        warnings.filter((w) =>
          w.includes(
            'instrument "noisy.requests" on the MeterProvider: attribute "http.route" reached 1000 distinct values',
          ),
        ),
      ).to.have.length(1);
    } finally {
      await t.shutdown();
    }
  });

  it('bounds attribute keys per instrument: past maxLabelValues keys, later keys are dropped and counted', async () => {
    const t = start({ maxLabelValues: 2 });
    try {
      const meter = t.meterProvider.getMeter('app');
      const wide = meter.createCounter('wide.requests');
      wide.add(1, { a: 'x', b: 'y' });
      wide.add(1, { a: 'x', c: 'z' }); // a third key: dropped
      wide.add(1, { b: 'y', c: 'z', d: 'w' });
      // Another instrument has keys of its own.
      meter.createCounter('narrow.requests').add(1, { c: 'z', d: 'w' });
      const exp = await exposition(t);
      expect(
        samples(exp, 'wide_requests_total')
          .map((s) => [JSON.stringify(s.labels), s.value])
          .sort(),
      ).to.deep.equal([
        ['{"a":"x","b":"y"}', 1],
        ['{"a":"x"}', 1],
        ['{"b":"y"}', 1],
      ]);
      expect(samples(exp, 'narrow_requests_total').map((s) => s.labels)).to.deep.equal([{ c: 'z', d: 'w' }]);
      expect(value(exp, OVERFLOW, { metric: 'wide.requests', label: 'c' })).to.equal(2);
      expect(value(exp, OVERFLOW, { metric: 'wide.requests', label: 'd' })).to.equal(1);
      expect(
        warnings.filter((w) =>
          w.includes('instrument "wide.requests" on the MeterProvider reached 2 distinct attribute keys'),
        ),
      ).to.have.length(1);
    } finally {
      await t.shutdown();
    }
  });
});

describe('core: a bound on series per third-party instrument (issue 20 item 5)', () => {
  beforeEach(() => {
    warnings.length = 0;
    diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  afterEach(() => diag.disable());

  it("1,000 queues x 300 workers keep 2,000 series plus OpenTelemetry's overflow series, with no count lost", async () => {
    const t = start();
    try {
      const jobs = t.meterProvider.getMeter('app').createCounter('app.jobs');
      for (let q = 0; q < 1000; q++) for (let w = 0; w < 300; w++) jobs.add(1, { queue: `q${q}`, worker: `w${w}` });
      const exp = await exposition(t);
      const got = samples(exp, 'app_jobs_total');
      expect(got).to.have.length(2001);
      expect(total(exp, 'app_jobs_total')).to.equal(300_000);
      expect(value(exp, 'app_jobs_total', { otel_metric_overflow: 'true' })).to.equal(298_000);
      expect(value(exp, 'app_jobs_total', { queue: 'q0', worker: 'w299' })).to.equal(1);
      expect(value(exp, OVERFLOW, { metric: 'app.jobs', label: '__series__' })).to.equal(298_000);
      expect(
        warnings.filter((w) =>
          w.includes(
            'instrument "app.jobs" on the MeterProvider reached 2000 series (TUIST_TELEMETRY_MAX_SERIES_PER_METRIC)',
          ),
        ),
      ).to.have.length(1);
    } finally {
      await t.shutdown();
    }
  });

  it('an attribute set in another key order is the same series; existing sets keep recording past the bound', async () => {
    const t = start({ maxSeriesPerMetric: 2 });
    try {
      const c = t.meterProvider.getMeter('app').createCounter('app.ordered');
      for (let round = 0; round < 3; round++) {
        c.add(1, { a: '1', b: '1' });
        c.add(1, { b: '1', a: '1' });
        c.add(1, { b: '2', a: '2' });
        c.add(1, { a: '2', b: '2' });
      }
      c.add(5, { a: '3', b: '3' });
      c.add(1, { b: '2', a: '2' });
      const exp = await exposition(t);
      expect(
        samples(exp, 'app_ordered_total')
          .map((s) => [JSON.stringify(Object.entries(s.labels).sort()), s.value])
          .sort(),
      ).to.deep.equal([
        ['[["a","1"],["b","1"]]', 6],
        ['[["a","2"],["b","2"]]', 7],
        ['[["otel_metric_overflow","true"]]', 5],
      ]);
      expect(value(exp, OVERFLOW, { metric: 'app.ordered', label: '__series__' })).to.equal(1);
    } finally {
      await t.shutdown();
    }
  });
});

describe('core: the overflow self-metric stays bounded (issue 20 item 6, issue 26)', () => {
  before(() => diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true }));
  after(() => diag.disable());

  it('never-repeating attribute keys add at most 1,000 label names, then one __other__, with every overflow counted', async () => {
    const t = start({ maxLabelValues: 10 });
    try {
      const c = t.meterProvider.getMeter('app').createCounter('keys.counter');
      const KEYS = 5000;
      for (let i = 0; i < KEYS; i++) c.add(1, { [`k${i}`]: 'v' });
      const exp = await exposition(t);
      const reported = samples(exp, OVERFLOW).filter((s) => s.labels.metric === 'keys.counter');
      // 10 keys are kept; each of the other 4,990 is dropped once. Unbounded: 4,990 series.
      expect(reported).to.have.length(1001);
      expect(reported.reduce((a, s) => a + s.value, 0)).to.equal(KEYS - 10);
      expect(value(exp, OVERFLOW, { metric: 'keys.counter', label: '__other__' })).to.equal(KEYS - 10 - 1000);
      expect(value(exp, OVERFLOW, { metric: 'keys.counter', label: 'k10' })).to.equal(1);
      expect(samples(exp, 'keys_counter_total')).to.have.length(11);
      expect(total(exp, 'keys_counter_total')).to.equal(KEYS);
    } finally {
      await t.shutdown();
    }
  });

  it('never-repeating instrument names past the bound are reported as metric="__other__"', async () => {
    const t = start({ maxLabelValues: 1 });
    try {
      const meter = t.meterProvider.getMeter('app');
      const N = 1200;
      for (let i = 0; i < N; i++) {
        const c = meter.createCounter(`inst.${i}`);
        c.add(1, { k: 'a' });
        c.add(1, { k: 'b' }); // past 1 value: __overflow__
      }
      const exp = await exposition(t);
      const reported = samples(exp, OVERFLOW);
      expect(reported).to.have.length(1001);
      expect(reported.reduce((a, s) => a + s.value, 0)).to.equal(N);
      expect(value(exp, OVERFLOW, { metric: '__other__', label: '__other__' })).to.equal(N - 1000);
      expect(value(exp, OVERFLOW, { metric: 'inst.999', label: 'k' })).to.equal(1);
    } finally {
      await t.shutdown();
    }
  });

  it('is not itself bounded: every catalog metric and label that overflowed is reported by name, however small the bounds', async () => {
    const t = start({ maxLabelValues: 1, maxSeriesPerMetric: 2 });
    try {
      for (const name of ['a', 'b'])
        for (const isCi of [false, true]) t.metrics.recordRun({ name, isCi, status: 0, durationMs: 1 });
      const queue = t.store.counter('tuist_http_queue_count');
      for (const host of ['h1', 'h2', 'h3']) queue.add(1, { request_method: 'GET', request_host: host });
      // A third-party flood of keys does not push catalog names out either.
      const c = t.meterProvider.getMeter('app').createCounter('flood');
      for (let i = 0; i < 1500; i++) c.add(1, { [`k${i}`]: 'v' });
      const exp = await exposition(t);
      const catalogRows = samples(exp, OVERFLOW)
        .filter((s) => s.labels.metric!.startsWith('tuist_'))
        .map((s) => `${s.labels.metric}/${s.labels.label}=${s.value}`)
        .sort();
      // runs: {a,false} is kept; {a,true} has is_ci past 1 value -> {a,__overflow__,0} (series 2); {b,*}: name past
      // its bound and a new label set past 2 series -> the all-__overflow__ series.
      expect(catalogRows).to.deep.equal([
        'tuist_http_queue_count/request_host=2',
        'tuist_runs_duration_milliseconds/__series__=2',
        'tuist_runs_duration_milliseconds/is_ci=1',
        'tuist_runs_total/__series__=2',
        'tuist_runs_total/is_ci=1',
      ]);
      expect(
        samples(exp, OVERFLOW).some((s) => s.labels.metric === OVERFLOW_VALUE || s.labels.label === OVERFLOW_VALUE),
      ).to.equal(false);
    } finally {
      await t.shutdown();
    }
  });
});

describe('core: third-party label values are truncated like catalog values (issue 20 item 8)', () => {
  before(() => diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true }));
  after(() => diag.disable());

  it('100 distinct 1 MB values are served at 1,024 characters each; values equal in their first 1,024 are one series', async () => {
    const t = start();
    try {
      const meter = t.meterProvider.getMeter('app');
      const c = meter.createCounter('big.values');
      const tail = 'x'.repeat(1_000_000);
      for (let i = 0; i < 100; i++) c.add(1, { key: `${i}-${tail}` });
      // Different only past 1,024 characters: one value once truncated, so one series (before aggregation).
      const g = meter.createCounter('same.prefix');
      for (let i = 0; i < 5; i++) g.add(1, { key: `${tail}${i}` });
      // Arrays are served as their JSON text, truncated the same way.
      meter.createCounter('big.array').add(1, { key: [tail, tail] });
      const text = await t.renderPrometheus();
      expect(text.length).to.be.below(250_000);
      const exp = parseExposition(text);
      const big = samples(exp, 'big_values_total');
      expect(big).to.have.length(100);
      expect(big.every((s) => s.labels.key!.length === 1024)).to.equal(true);
      expect(total(exp, 'big_values_total')).to.equal(100);
      expect(samples(exp, 'same_prefix_total').map((s) => [s.labels.key!.length, s.value])).to.deep.equal([[1024, 5]]);
      expect(samples(exp, 'big_array_total').map((s) => s.labels.key!.length)).to.deep.equal([1024]);
    } finally {
      await t.shutdown();
    }
  });

  it("values served without core's MeterProvider (a host SDK) are truncated when written, never splitting a surrogate pair", () => {
    const long = 'y'.repeat(1023) + '\u{1F600}' + 'z';
    const rm = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: 'host' },
          metrics: [
            {
              descriptor: { name: 'm' },
              dataPointType: DataPointType.GAUGE,
              dataPoints: [{ attributes: { key: long, n: 'x'.repeat(2000) }, value: 1 }],
            } as unknown as MetricData,
          ],
        },
      ],
    } as ResourceMetrics;
    const fixed = fixResourceMetrics(rm);
    const attrs = fixed.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes;
    expect(attrs.key).to.equal('y'.repeat(1023));
    expect(attrs.n).to.equal('x'.repeat(1024));
  });
});
