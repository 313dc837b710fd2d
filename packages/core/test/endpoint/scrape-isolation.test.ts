import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type MetricProducer,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Telemetry } from '@tuist-telemetry/core';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { PullMetricReader } from '../../src/prometheus/reader.js';
import { PrometheusRenderer } from '../../src/prometheus/render.js';
import { ThirdPartyWriter } from '../../src/prometheus/third-party.js';
import {
  decodeFamilies,
  expectPromtoolParses,
  expectStrictOpenMetrics,
  get,
  keepingLogger,
  linesOf,
  PROMETHEUS_ACCEPT,
  PROMETHEUS_PROTOBUF_ACCEPT,
  protobufSamples,
  scrapeAs,
  startReady,
  startLocal,
} from '../helpers/index.js';

const HISTOGRAM = 'tuist_runs_duration_milliseconds';

/**
 * A renderer of `t`'s store beside a MeterProvider with a counter and a histogram of a library, and a bridge (another
 * metrics library fed in through a MetricProducer) that hands over a malformed point: a histogram without buckets.
 */
function bridgedRenderer(t: Telemetry, logger: DiagLogger): { renderer: PrometheusRenderer; provider: MeterProvider } {
  const bridge: MetricProducer = {
    collect: async () =>
      ({
        resourceMetrics: {
          resource: t.resource,
          scopeMetrics: [
            {
              scope: { name: 'bridge' },
              metrics: [
                {
                  descriptor: { name: 'bridge.latency', description: '', unit: '', valueType: 1 },
                  dataPointType: DataPointType.HISTOGRAM,
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  dataPoints: [{ attributes: {}, startTime: [0, 0], endTime: [1, 0], value: { count: 1, sum: 2 } }],
                },
              ],
            },
          ],
        },
        errors: [],
      }) as unknown as Awaited<ReturnType<MetricProducer['collect']>>,
  };
  const reader = new PullMetricReader({ metricProducers: [bridge] });
  const provider = new MeterProvider({ readers: [reader] });
  provider.getMeter('lib').createCounter('lib.requests').add(3);
  provider
    .getMeter('lib')
    .createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10] } })
    .record(5);
  const renderer = new PrometheusRenderer({
    withScopeLabels: false,
    withTargetInfo: false,
    withCreated: false,
    store: t.store,
    resource: t.resource,
    scope: { name: 'test', version: '0' },
    reader,
    canCollect: () => true,
    warnings: new RateLimitedLogger(logger),
  });
  return { renderer, provider };
}

describe('core: a series that cannot be written is left out (a family in protobuf), the rest of the scrape is served (issue 20 item 4)', () => {
  let t: Telemetry;
  let log: ReturnType<typeof keepingLogger>;
  beforeEach(async () => {
    log = keepingLogger();
    diag.setLogger(log.logger, DiagLogLevel.WARN);
    t = await startReady();
  });
  afterEach(async () => {
    await t.shutdown();
    diag.disable();
  });

  it('a catalog series that throws while written: 0.0.4 and OpenMetrics served without it (its family with the other series), protobuf without its family, one diag error, counted per scrape', async function () {
    t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
    t.metrics.recordRun({ name: 'test', isCi: true, status: 0, durationMs: 80 });
    t.metrics.recordCacheUpload(5);
    t.meterProvider.getMeter('lib').createCounter('lib.requests').add(3);
    // An unforeseen fault in one series of one family (here: a sum that cannot be read), after the family's HELP,
    // TYPE and bucket lines are written.
    const series = [...t.store.histogram(HISTOGRAM).series][0]!;
    const sum = series.sum;
    Object.defineProperty(series, 'sum', {
      configurable: true,
      get: () => {
        throw new TypeError('corrupt series');
      },
    });

    const om1 = await scrapeAs(t, PROMETHEUS_ACCEPT);
    const om2 = await scrapeAs(t, PROMETHEUS_ACCEPT);
    const text = await scrapeAs(t, 'text/plain');
    for (const body of [om1, om2, text]) {
      // The family's HELP and TYPE and its other series; not a line of the corrupt one (its bucket lines, written
      // before the sum that throws, are taken back too).
      const family = linesOf(body, HISTOGRAM);
      expect(family.filter((l) => l.startsWith('#'))).to.have.length(2);
      expect(family.filter((l) => l.includes('name="build"'))).to.deep.equal([]);
      expect(body).to.contain(`\n${HISTOGRAM}_sum{name="test",is_ci="true",status="0"} 80\n`);
      expect(body).to.contain('\ntuist_runs_total{name="build",is_ci="true",status="0"} 1\n');
      expect(body).to.contain('\ntuist_cache_uploaded_bytes 5\n');
      expect(body).to.contain('\nlib_requests_total 3\n');
    }
    // Each scrape counts it (the counter is written after the failed family, so a scrape shows its own failure).
    expect(om1).to.contain(`\ntuist_telemetry_render_errors_total{metric="${HISTOGRAM}"} 1\n`);
    expect(text).to.contain(`\ntuist_telemetry_render_errors_total{metric="${HISTOGRAM}"} 3\n`);
    // Protobuf keeps the per-family rule: the family is left out whole (and counted, a fourth time).
    const pb = protobufSamples(decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body));
    expect([...pb.keys()].filter((k) => k.startsWith(HISTOGRAM))).to.deep.equal([]);
    expect(pb.get(`tuist_telemetry_render_errors_total{metric="${HISTOGRAM}"}`)).to.equal(4);
    expectStrictOpenMetrics(om1);
    expectStrictOpenMetrics(om2);
    expectPromtoolParses(this, text);
    expectPromtoolParses(this, om2);
    // One diag error (rate-limited: four scrapes failed it), naming the metric and the cause.
    const errors = log.errors.filter((e) => e.includes(HISTOGRAM));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.contain('corrupt series');
    expect(log.errors.filter((e) => e.includes('scrape failed'))).to.deep.equal([]);

    // Once the series can be read again, it is back.
    Object.defineProperty(series, 'sum', { configurable: true, writable: true, enumerable: true, value: sum });
    const om = await scrapeAs(t, PROMETHEUS_ACCEPT);
    expect(om).to.contain(`\n${HISTOGRAM}_sum{name="build",is_ci="true",status="0"} 120\n`);
    expectStrictOpenMetrics(om);
  });
});

describe('core: a diag logger that throws does not turn a skipped series into a failed scrape', () => {
  it('the scrape is served without the series', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    diag.setLogger({ error: throwing, warn: throwing, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    const t = startLocal();
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      const series = [...t.store.histogram(HISTOGRAM).series][0]!;
      Object.defineProperty(series, 'count', {
        configurable: true,
        get: () => {
          throw new TypeError('corrupt series');
        },
      });
      const body = await scrapeAs(t, PROMETHEUS_ACCEPT);
      // Its only series left out: the family's HELP and TYPE stay.
      expect(linesOf(body, HISTOGRAM).filter((l) => !l.startsWith('#'))).to.deep.equal([]);
      expect(body).to.contain('\ntuist_runs_total{name="build",is_ci="true",status="0"} 1\n');
      expectStrictOpenMetrics(body);
    } finally {
      await t.shutdown();
      diag.disable();
    }
  });
});

describe('core: a third-party metric the stock serializer throws on is left out, the others are served', () => {
  it('a MetricProducer giving a histogram point without buckets: text and OpenMetrics served without it', async function () {
    const log = keepingLogger();
    const t = startLocal({ exporters: [] });
    const { renderer, provider } = bridgedRenderer(t, log.logger);
    try {
      const text = (await renderer.render('text')).toString('utf8');
      const om = (await renderer.render('openmetrics')).toString('utf8');
      for (const body of [text, om]) {
        expect(linesOf(body, 'bridge_latency')).to.deep.equal([]);
        expect(body).to.contain('\nlib_requests_total 3\n');
        expect(body).to.contain('\nlib_latency_count 1\n');
        expect(body).to.contain('# HELP tuist_cache_uploaded_bytes ');
      }
      expect(om).to.contain('\ntuist_telemetry_render_errors_total{metric="bridge_latency"} 2\n');
      expectStrictOpenMetrics(om);
      expectPromtoolParses(this, text);
      expect(log.errors).to.have.length(1);
      expect(log.errors[0]).to.contain('bridge_latency');
    } finally {
      await provider.shutdown();
      await t.shutdown();
    }
  });
});

describe('core: a third-party metric that cannot be written is left out of the protobuf scrape, the others are served', () => {
  it('a MetricProducer giving a histogram point without buckets', async () => {
    const { logger, errors } = keepingLogger();
    const t = startLocal({ exporters: [] });
    const { renderer, provider } = bridgedRenderer(t, logger);
    try {
      await renderer.render('protobuf');
      const families = decodeFamilies(await renderer.render('protobuf'));
      const names = families.map((f) => f.name);
      expect(names).to.not.include('bridge_latency');
      expect(names).to.include.members(['lib_requests_total', 'lib_latency', 'tuist_cache_uploaded_bytes']);
      const samples = protobufSamples(families);
      expect(samples.get('lib_latency_count{}')).to.equal(1);
      // Counted per scrape: the second scrape shows both.
      expect(samples.get('tuist_telemetry_render_errors_total{metric="bridge_latency"}')).to.equal(2);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.contain('bridge_latency');
    } finally {
      await provider.shutdown();
      await t.shutdown();
    }
  });
});

describe('core: ThirdPartyWriter isolates target_info too', () => {
  it('a resource the stock serializer throws on: target_info is left out (reported), the metrics are written', async () => {
    const reader = new PullMetricReader();
    const mp = new MeterProvider({ readers: [reader] });
    mp.getMeter('lib').createCounter('lib.requests').add(3);
    const { resourceMetrics } = await reader.collect();
    const failed: string[] = [];
    const writer = new ThirdPartyWriter({
      reserved: new Set(),
      withScopeLabels: false,
      withTargetInfo: true,
      skipped: () => {},
      failed: (name) => failed.push(name),
    });
    // A BigInt attribute (not an OpenTelemetry attribute type, but nothing stops a caller): JSON.stringify throws on it.
    const resource = { attributes: { 'service.name': 1n } } as unknown as ResourceMetrics['resource'];
    const text = writer.write({ resource, scopeMetrics: resourceMetrics.scopeMetrics });
    expect(failed).to.deep.equal(['target_info']);
    expect(text).to.not.contain('target_info');
    expect(text).to.contain('\nlib_requests_total 3\n');
    await mp.shutdown();
  });
});
