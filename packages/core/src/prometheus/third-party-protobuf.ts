import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { ProtoWriter, encodeLabels } from './pb-writer.js';
import { METRIC_TYPE, writeTimestamp } from './protobuf.js';
import type { EscapingScheme } from '../labels/escaping.js';
import { forEachCumulativeBucket, metricName, sanitize } from './third-party.js';

/*
 * Third-party instruments and target_info as protobuf MetricFamily messages, shaped as the stock text serializer
 * (third-party.ts) serves them, so that Prometheus stores the same series from either format: the stock names
 * (`stockName`), its label names (`sanitize`) and values (non-strings as JSON), its HELP ("description missing" when
 * there is none), monotonic sums as counters and other sums as gauges, histogram buckets cumulated as it does.
 */

export interface ThirdPartyProtobufOptions {
  withScopeLabels: boolean;
  withTargetInfo: boolean;
  /** Told about a metric that could not be written: it is left out and the others are written. */
  failed: (name: string, err: unknown) => void;
  /**
   * The scraper's name escaping: metric names as `metricName` gives them, and attribute keys as they are (the label
   * policy already made them label names of that scheme); undefined: the stock serializer's names.
   */
  escaping?: EscapingScheme;
}

type Pairs = [string, string][];

/**
 * The label pairs of `attributes` (and `extra`) as the stock serializer writes them (keys sanitised unless `asIs`);
 * empty values are no label.
 */
export function pairs(attributes: Attributes, extra: Pairs, asIs = false): Pairs {
  const out: Pairs = [];
  for (const [k, v] of Object.entries(attributes)) {
    const value = v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    if (value !== '') out.push([asIs ? k : sanitize(k), value]);
  }
  for (const p of extra) if (p[1] !== '') out.push(p);
  return out;
}

/** Milliseconds since the epoch of an HrTime. */
function hrMs(t: readonly [number, number]): number {
  return t[0] * 1000 + t[1] / 1e6;
}

export function scopePairs(sm: ScopeMetrics): Pairs {
  const out: Pairs = [['otel_scope_name', sm.scope.name]];
  if (sm.scope.schemaUrl) out.push(['otel_scope_schema_url', sm.scope.schemaUrl]);
  if (sm.scope.version) out.push(['otel_scope_version', sm.scope.version]);
  return out;
}

/** Prometheus' finest native schema: finer OpenTelemetry scales are merged down to it. */
const MAX_SCHEMA = 8;
/** Prometheus' coarsest native schema: a coarser OpenTelemetry scale cannot be served. */
const MIN_SCHEMA = -4;

/**
 * OpenTelemetry exponential buckets as Prometheus spans and deltas (Histogram fields `spanField` and
 * `spanField + 1`). OpenTelemetry's bucket i holds (base^i, base^(i+1)], Prometheus' bucket i holds
 * (base^(i-1), base^i]: the index is one more. Buckets of a scale finer than 8 are merged first (i >> shift).
 */
function writeExponentialBuckets(
  w: ProtoWriter,
  spanField: number,
  b: { offset: number; bucketCounts: number[] },
  shift: number,
): void {
  const merged = new Map<number, number>();
  for (let k = 0; k < b.bucketCounts.length; k++) {
    const c = b.bucketCounts[k]!;
    if (c !== 0) {
      const i = Math.floor((b.offset + k) / 2 ** shift) + 1;
      merged.set(i, (merged.get(i) ?? 0) + c);
    }
  }
  const spans: [number, number][] = [];
  const deltas: number[] = [];
  let prev = 0;
  let end = 0;
  for (const i of [...merged.keys()].sort((x, y) => x - y)) {
    if (spans.length > 0 && i === end) spans[spans.length - 1]![1]++;
    else spans.push([spans.length === 0 ? i : i - end, 1]);
    const c = merged.get(i)!;
    deltas.push(c - prev);
    prev = c;
    end = i + 1;
  }
  for (const [offset, length] of spans) {
    const span = w.open(spanField);
    w.sint(1, offset);
    w.uint(2, length);
    w.close(span);
  }
  for (const d of deltas) w.sint(spanField + 1, d);
}

/** An exponential histogram's data points as native histograms (schema, zero bucket, negative and positive buckets). */
function writeExponential(w: ProtoWriter, m: MetricData, extra: Pairs, asIs: boolean): void {
  if (m.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) return;
  for (const dp of m.dataPoints) {
    const v = dp.value;
    if (v.scale < MIN_SCHEMA)
      throw new Error(`exponential histogram scale ${v.scale} is coarser than Prometheus' schema ${MIN_SCHEMA}`);
    const shift = Math.max(0, v.scale - MAX_SCHEMA);
    const metric = w.open(4);
    w.bytes(encodeLabels(1, pairs(dp.attributes, extra, asIs)));
    const h = w.open(7);
    w.uint(1, v.count);
    if (v.sum != null) w.double(2, v.sum);
    w.sint(5, v.scale - shift);
    w.double(6, 0);
    w.uint(7, v.zeroCount);
    writeExponentialBuckets(w, 9, v.negative, shift);
    writeExponentialBuckets(w, 12, v.positive, shift);
    writeTimestamp(w, 15, hrMs(dp.startTime));
    w.close(h);
    w.close(metric);
  }
}

function writeMetric(w: ProtoWriter, m: MetricData, extra: Pairs, escaping: EscapingScheme | undefined): void {
  const asIs = escaping !== undefined;
  const family = w.open(0);
  w.string(1, metricName(m, escaping));
  w.string(2, m.descriptor.description || 'description missing');
  if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
    w.uint(3, METRIC_TYPE.histogram);
    writeExponential(w, m, extra, asIs);
  } else if (m.dataPointType === DataPointType.HISTOGRAM) {
    w.uint(3, METRIC_TYPE.histogram);
    for (const dp of m.dataPoints) {
      const metric = w.open(4);
      w.bytes(encodeLabels(1, pairs(dp.attributes, extra, asIs)));
      const h = w.open(7);
      const { count, sum, buckets } = dp.value;
      w.uint(1, count);
      if (sum != null) w.double(2, sum);
      forEachCumulativeBucket(buckets, (bound, cum) => {
        const b = w.open(3);
        w.uint(1, cum);
        w.double(2, bound);
        w.close(b);
      });
      writeTimestamp(w, 15, hrMs(dp.startTime));
      w.close(h);
      w.close(metric);
    }
  } else {
    const counter = m.dataPointType === DataPointType.SUM && m.isMonotonic;
    w.uint(3, counter ? METRIC_TYPE.counter : METRIC_TYPE.gauge);
    for (const dp of m.dataPoints as { attributes: Attributes; value: number; startTime: [number, number] }[]) {
      const metric = w.open(4);
      w.bytes(encodeLabels(1, pairs(dp.attributes, extra, asIs)));
      const v = w.open(counter ? 3 : 2);
      w.double(1, dp.value);
      // A counter's created timestamp: its data point's start time (cumulative: when the series began).
      if (counter) writeTimestamp(w, 3, hrMs(dp.startTime));
      w.close(v);
      w.close(metric);
    }
  }
  w.close(family);
}

/**
 * The protobuf messages of `scopeMetrics` (already selected by ThirdPartyWriter and labelled by the label policy)
 * and, when asked for, `target_info` from `rm`'s resource. A metric that throws is left out (reported).
 */
export function encodeThirdParty(
  rm: ResourceMetrics,
  scopeMetrics: readonly ScopeMetrics[],
  opts: ThirdPartyProtobufOptions,
): Buffer {
  const w = new ProtoWriter(1024);
  if (opts.withTargetInfo) {
    const start = w.pos;
    try {
      const family = w.open(0);
      w.string(1, 'target_info');
      w.string(2, 'Target metadata');
      w.uint(3, METRIC_TYPE.gauge);
      const metric = w.open(4);
      w.bytes(encodeLabels(1, pairs(rm.resource.attributes, [], opts.escaping !== undefined)));
      const g = w.open(2);
      w.double(1, 1);
      w.close(g);
      w.close(metric);
      w.close(family);
    } catch (err) {
      w.pos = start;
      opts.failed('target_info', err);
    }
  }
  for (const sm of scopeMetrics) {
    const extra = opts.withScopeLabels ? scopePairs(sm) : [];
    for (const m of sm.metrics) {
      // A metric without data points has no series (the stock serializer writes its HELP and TYPE only).
      if (m.dataPoints.length === 0) continue;
      const start = w.pos;
      try {
        writeMetric(w, m, extra, opts.escaping);
      } catch (err) {
        w.pos = start;
        opts.failed(metricName(m, opts.escaping), err);
      }
    }
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}
