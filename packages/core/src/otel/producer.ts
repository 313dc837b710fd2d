import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { TemporalityPreference } from '../config/index.js';
import { CounterFamily, GaugeFamily, HistogramFamily, type AnyFamily, type MetricStore } from '../store/store.js';
import type { Exemplar } from '../store/exemplars.js';
import { exponentialValue, snapshot, type NativeSnapshot } from './exponential-points.js';
import { pointExemplars, type PointExemplar } from './otlp-exemplars.js';

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

/** What a delta point was computed against: the values and time of the previous collection of one series. */
interface Last {
  at: number;
  value: number;
  counts?: Float64Array;
  sum?: number;
  count?: number;
  /** The bucket exemplars seen at that collection (see `exemplarsSince`). */
  exemplars?: string[];
  /** The native buckets at that collection (exponential points). */
  native?: NativeSnapshot;
}

const exemplarKey = (e: Exemplar | undefined): string => (e ? `${e.spanId}/${e.value}/${e.timestamp}` : '');

/**
 * The bucket exemplars a histogram point carries over OTLP: cumulative, every bucket's latest one (as /metrics
 * serves them); delta, only those kept since the previous collection (an exemplar belongs to the interval of its
 * measurement). Read from the store at collection time; the recording path is unchanged.
 */
function exemplarsSince(
  all: readonly (Exemplar | undefined)[] | undefined,
  seen: string[] | undefined,
): PointExemplar[] {
  const out: PointExemplar[] = [];
  if (all) {
    for (let i = 0; i < all.length; i++) {
      const e = all[i];
      if (e && (!seen || seen[i] !== exemplarKey(e)))
        out.push({ value: e.value, timestamp: e.timestamp, traceId: e.traceId, spanId: e.spanId });
    }
  }
  return out;
}

/**
 * Hands core's store to the OpenTelemetry pipeline: PeriodicExportingMetricReaders (OTLP, console) pull it
 * through `metricProducers`, so push exporters carry the catalog with its documented names, buckets and labels.
 *
 * The store is cumulative (the Prometheus endpoint serves it as is). With a `delta` or `lowmemory` temporality
 * preference (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, as the OTLP exporter reads it) this producer
 * subtracts what it exported last time from each counter and histogram series, so every push reader needs its own
 * producer. As the OpenTelemetry specification maps the preference: `delta` makes counters and histograms delta;
 * `lowmemory` makes the synchronous ones delta and keeps the counters observed at collection time (the runtime
 * family) cumulative. Gauges have no temporality. A series with nothing new since the last collection is left out
 * of a delta export, as the SDK does.
 *
 * With `exponential` (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram`),
 * each catalog histogram is also pushed as an ExponentialHistogram metric of the same name, from the native buckets
 * the store keeps beside the documented ones (otel/exponential-points.ts), with the same temporality, start time and
 * exemplars: a backend that reads it (Prometheus' OTLP receiver: a native histogram) gets the exponential view, and
 * the documented explicit buckets stay exact in the Histogram metric.
 */
export class StoreMetricProducer implements MetricProducer {
  private readonly last = new WeakMap<object, Last>();

  constructor(
    private readonly store: MetricStore,
    private readonly preference: TemporalityPreference = 'cumulative',
    private readonly exponential = false,
  ) {}

  private isDelta(f: AnyFamily): boolean {
    if (this.preference === 'cumulative' || f instanceof GaugeFamily) return false;
    if (this.preference === 'delta' || f instanceof HistogramFamily) return true;
    return f.def.family !== 'runtime';
  }

  async collect(): Promise<CollectionResult> {
    this.store.runCollectCallbacks();
    const nowMs = Date.now();
    const now = hrTime(nowMs);
    const metrics: MetricData[] = [];
    for (const f of this.store.families) {
      if (f.series.size === 0) continue;
      const descriptor = {
        name: f.name,
        description: f.def.description,
        unit: f.def.unit ?? '',
        valueType: ValueType.DOUBLE,
      };
      const delta = this.isDelta(f);
      const aggregationTemporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
      if (f instanceof HistogramFamily) {
        const boundaries = [...f.buckets];
        const dataPoints = [];
        const expPoints = [];
        for (const s of f.series) {
          const last = delta ? this.last.get(s) : undefined;
          const native = this.exponential ? s.native : undefined;
          if (delta) {
            const exemplars = s.exemplars ? Array.from(s.exemplars, exemplarKey) : undefined;
            this.last.set(s, {
              at: nowMs,
              value: 0,
              counts: Float64Array.from(s.counts),
              sum: s.sum,
              count: s.count,
              ...(exemplars ? { exemplars } : {}),
              ...(native ? { native: snapshot(native) } : {}),
            });
          }
          const count = s.count - (last?.count ?? 0);
          if (delta && count === 0) continue;
          const counts = last ? Array.from(s.counts, (c, i) => c - last.counts![i]!) : Array.from(s.counts);
          const point = {
            startTime: hrTime(last?.at ?? s.start),
            endTime: now,
            attributes: attributes(f, s.labelValues),
            value: { buckets: { boundaries, counts }, sum: s.sum - (last?.sum ?? 0), count },
          };
          const exemplars = exemplarsSince(s.exemplars, last?.exemplars);
          if (exemplars.length) pointExemplars.set(point, exemplars);
          dataPoints.push(point);
          if (native) {
            const exp = { ...point, value: exponentialValue(native, last?.native, count, point.value.sum) };
            if (exemplars.length) pointExemplars.set(exp, exemplars);
            expPoints.push(exp);
          }
        }
        if (dataPoints.length)
          metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints });
        if (expPoints.length)
          metrics.push({
            descriptor,
            aggregationTemporality,
            dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
            dataPoints: expPoints,
          });
      } else {
        const dataPoints = [];
        for (const s of f.series) {
          const last = delta ? this.last.get(s) : undefined;
          if (delta) this.last.set(s, { at: nowMs, value: s.value });
          const value = s.value - (last?.value ?? 0);
          if (delta && value === 0 && last) continue;
          dataPoints.push({
            startTime: hrTime(last?.at ?? s.start),
            endTime: now,
            attributes: attributes(f, s.labelValues),
            value,
          });
        }
        if (dataPoints.length === 0) continue;
        if (f instanceof CounterFamily) {
          metrics.push({
            descriptor,
            aggregationTemporality,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints,
          });
        } else if (f instanceof GaugeFamily) {
          metrics.push({ descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints });
        }
      }
    }
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: SCOPE, metrics }] },
      errors: [],
    };
  }
}
