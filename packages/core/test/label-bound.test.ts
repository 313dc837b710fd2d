import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { MeterProvider, MetricReader, DataPointType } from '@opentelemetry/sdk-metrics';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseExposition, samples, value } from '@tuist-telemetry/testing';
import { catalogViews, startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { OVERFLOW_VALUE } from '@tuist-telemetry/core/internal';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

const N = 200_000;
const CAP = 1000;

describe('core: a bound on every label of every catalog metric (issue 13 item 5)', () => {
  let t: Telemetry;
  let grewMb: number;
  before(() => {
    diag.disable();
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    const before = heapMb();
    const requests = t.store.counter('tuist_http_server_requests_total');
    const served = t.store.histogram('tuist_http_server_request_duration_milliseconds');
    const client = t.store.counter('tuist_http_request_count');
    for (let i = 0; i < N; i++) {
      const route = `/projects/${i}/runs`;
      requests.add(1, { method: 'GET', route, status: '200' });
      served.record(5, { method: 'GET', route, status: '200' });
      client.add(1, { response_status: '200', request_method: 'GET', request_host: `host-${i}.example.com` });
      t.metrics.recordTokenRefreshError({ cliVersion: `4.${i}.0`, reason: 'invalid_token' });
      t.metrics.recordRun({ name: `command-${i}`, isCi: false, status: 0, durationMs: 1 });
    }
    grewMb = heapMb() - before;
  });
  after(() => t.shutdown());

  it('keeps at most TUIST_TELEMETRY_MAX_LABEL_VALUES series per label (default 1000) plus __overflow__, and loses no count', async () => {
    for (const [name, label] of [
      ['tuist_http_server_requests_total', 'route'],
      ['tuist_http_server_request_duration_milliseconds', 'route'],
      ['tuist_http_request_count', 'request_host'],
      ['tuist_authentication_token_refresh_error_total', 'cli_version'],
      ['tuist_runs_total', 'name'],
      ['tuist_runs_duration_milliseconds', 'name'],
    ] as const) {
      const family = t.store.families.find((f) => f.name === name)!;
      expect(family.series.size, name).to.equal(CAP + 1);
      const values = [...family.series].map((s) => s.labelValues[family.labelNames.indexOf(label)]);
      expect(
        values.filter((v) => v === OVERFLOW_VALUE),
        name,
      ).to.have.length(1);
    }
    const exp = parseExposition(await t.renderPrometheus());
    const total = (name: string) => samples(exp, name).reduce((a, s) => a + s.value, 0);
    expect(total('tuist_http_server_requests_total')).to.equal(N);
    expect(total('tuist_http_server_request_duration_milliseconds_count')).to.equal(N);
    expect(total('tuist_http_request_count')).to.equal(N);
    expect(total('tuist_authentication_token_refresh_error_total')).to.equal(N);
    expect(total('tuist_runs_total')).to.equal(N);
    expect(value(exp, 'tuist_runs_total', { name: OVERFLOW_VALUE })).to.equal(N - CAP);
    expect(value(exp, 'tuist_http_request_count', { request_host: OVERFLOW_VALUE })).to.equal(N - CAP);
  });

  it('counts every overflowed recording in tuist_telemetry_label_overflow_total{metric, label}', async () => {
    const exp = parseExposition(await t.renderPrometheus());
    const overflow = (metric: string, label: string) =>
      value(exp, 'tuist_telemetry_label_overflow_total', { metric, label });
    expect(overflow('tuist_http_server_requests_total', 'route')).to.equal(N - CAP);
    expect(overflow('tuist_http_request_count', 'request_host')).to.equal(N - CAP);
    expect(overflow('tuist_authentication_token_refresh_error_total', 'cli_version')).to.equal(N - CAP);
    expect(overflow('tuist_runs_total', 'name')).to.equal(N - CAP);
    expect(overflow('tuist_runs_duration_milliseconds', 'name')).to.equal(N - CAP);
  });

  it('memory stays bounded: 1,000,000 recordings with 200,000 distinct values each retain a few MB', () => {
    // Unbounded, the 1.2 million series of these six families would hold hundreds of MB.
    expect(grewMb).to.be.below(40);
  });

  it('catalogViews() applies the same bound to the stock SDK, and reports each overflow', async () => {
    class Reader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const overflows: string[] = [];
    const provider = new MeterProvider({
      readers: [reader],
      views: catalogViews('docs', { maxLabelValues: 10, onOverflow: (m, l) => overflows.push(`${m}/${l}`) }),
    });
    const runs = provider.getMeter('test').createCounter('tuist_runs_total');
    for (let i = 0; i < 1000; i++)
      runs.add(1, { name: `command-${i}`, is_ci: 'false', status: '0', dropped: 'not a catalog label' });
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
    expect(metric.dataPointType).to.equal(DataPointType.SUM);
    const points = metric.dataPoints as { attributes: Record<string, unknown>; value: number }[];
    expect(points).to.have.length(11);
    expect(points.reduce((a, p) => a + p.value, 0)).to.equal(1000);
    expect(points.find((p) => p.attributes.name === OVERFLOW_VALUE)!.value).to.equal(990);
    expect(points.every((p) => !('dropped' in p.attributes))).to.equal(true);
    expect(overflows).to.have.length(990);
    expect(new Set(overflows)).to.deep.equal(new Set(['tuist_runs_total/name']));
    await provider.shutdown();
  });
});

describe('core: the label bound for instruments on telemetry.meterProvider (issue 13 item 5)', () => {
  it('each attribute keeps at most maxLabelValues values; the rest is __overflow__, counted, with no count lost', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      maxLabelValues: 50,
      env: { OTEL_LOG_LEVEL: 'none' },
    });
    try {
      const meter = t.meterProvider.getMeter('app');
      const requests = meter.createCounter('app.requests');
      const latency = meter.createHistogram('app.latency', { advice: { explicitBucketBoundaries: [1, 10] } });
      for (let i = 0; i < 1000; i++) {
        requests.add(1, { 'http.route': `/r/${i}`, method: 'GET' });
        latency.record(5, { 'http.route': `/r/${i}` });
      }
      const exp = parseExposition(await t.renderPrometheus());
      const got = samples(exp, 'app_requests_total');
      expect(got).to.have.length(51);
      expect(got.reduce((a, s) => a + s.value, 0)).to.equal(1000);
      expect(value(exp, 'app_requests_total', { http_route: OVERFLOW_VALUE })).to.equal(950);
      // The bound is per instrument (issue 20 item 7): the histogram keeps its own 50 routes.
      expect(samples(exp, 'app_latency_count')).to.have.length(51);
      expect(value(exp, 'app_latency_bucket', { http_route: '/r/0', le: '10' })).to.equal(1);
      expect(
        value(exp, 'tuist_telemetry_label_overflow_total', { metric: 'app.requests', label: 'http.route' }),
      ).to.equal(950);
      expect(
        value(exp, 'tuist_telemetry_label_overflow_total', { metric: 'app.latency', label: 'http.route' }),
      ).to.equal(950);
    } finally {
      await t.shutdown();
    }
  });
});
