import { expect } from 'chai';
import { AggregationTemporality, DataPointType, MeterProvider, type MetricProducer } from '@opentelemetry/sdk-metrics';
import type { DiagLogger } from '@opentelemetry/api';
import { startTelemetry } from '@tuist-telemetry/core';
import { RateLimitedLogger } from '../src/diag/index.js';
import { PullMetricReader } from '../src/prometheus/reader.js';
import { PrometheusRenderer } from '../src/prometheus/render.js';
import { decodeFamilies, protobufSamples } from './helpers/protobuf.js';

describe('core: a third-party metric that cannot be written is left out of the protobuf scrape, the others are served', () => {
  it('a MetricProducer giving a histogram point without buckets', async () => {
    const errors: string[] = [];
    const keep = (...args: unknown[]) =>
      errors.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
    const logger: DiagLogger = { error: keep, warn: keep, info() {}, debug() {}, verbose() {} };
    const t = startTelemetry({ runtimeMetrics: false, setGlobalMeterProvider: false, exporters: [] });
    // A bridge (another metrics library fed in through a MetricProducer) that hands over a malformed point.
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
