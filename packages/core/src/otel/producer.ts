import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { CounterFamily, GaugeFamily, HistogramFamily, type AnyFamily, type MetricStore } from '../store.js';

function hrTime(ms: number): HrTime {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}

function attributes(f: AnyFamily, values: readonly string[]): Attributes {
  const attrs: Attributes = {};
  const names = f.labelNames;
  for (let i = 0; i < names.length; i++) if (values[i] !== '') attrs[names[i]!] = values[i]!;
  return attrs;
}

export const SCOPE = { name: '@tuist-telemetry/core', version: '0.1.0' };

/**
 * Hands core's store to the OpenTelemetry pipeline: PeriodicExportingMetricReaders (OTLP, console) pull it
 * through `metricProducers`, so push exporters carry the catalog with its documented names, buckets and labels.
 * All data is cumulative, like the Prometheus endpoint.
 */
export class StoreMetricProducer implements MetricProducer {
  constructor(private readonly store: MetricStore) {}

  async collect(): Promise<CollectionResult> {
    this.store.runCollectCallbacks();
    const now = hrTime(Date.now());
    const metrics: MetricData[] = [];
    for (const f of this.store.families) {
      if (f.series.size === 0) continue;
      const descriptor = { name: f.name, description: f.def.description, unit: f.def.unit ?? '', valueType: ValueType.DOUBLE };
      if (f instanceof HistogramFamily) {
        const boundaries = [...f.buckets];
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [...f.series].map((s) => ({
            startTime: hrTime(s.start),
            endTime: now,
            attributes: attributes(f, s.labelValues),
            value: { buckets: { boundaries, counts: Array.from(s.counts) }, sum: s.sum, count: s.count },
          })),
        });
      } else {
        const points = [...f.series].map((s) => ({ startTime: hrTime(s.start), endTime: now, attributes: attributes(f, s.labelValues), value: s.value }));
        if (f instanceof CounterFamily) {
          metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: points });
        } else if (f instanceof GaugeFamily) {
          metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: points });
        }
      }
    }
    return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] };
  }
}
