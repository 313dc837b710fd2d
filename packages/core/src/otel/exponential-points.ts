import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import type { NativeBuckets } from '../store/native-histogram.js';

/*
 * A catalog histogram's native buckets (native-histogram.ts) as an OpenTelemetry exponential histogram value, for
 * OTLP pushes with `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram`.
 * Both are base-2 exponential: OpenTelemetry's scale is Prometheus' schema. Prometheus' bucket i holds
 * (base^(i-1), base^i], OpenTelemetry's bucket i holds (base^i, base^(i+1)]: the OpenTelemetry index is one less.
 */

/** A series' native buckets as one collection saw them (what the next delta point is computed against). */
export interface NativeSnapshot {
  schema: number;
  offset: number;
  counts: Float64Array;
  zeroCount: number;
}

export function snapshot(n: NativeBuckets): NativeSnapshot {
  return { schema: n.schema, offset: n.offset, counts: Float64Array.from(n.counts), zeroCount: n.zeroCount };
}

/**
 * The exponential value of `n` (cumulative), or of what `n` gained since `last` (delta): the buckets of `last` are
 * first merged to `n`'s schema (the resolution only ever goes down: bucket i of schema s is bucket ceil(i / 2^d) of
 * schema s - d, as the store merges them). `count` and `sum` are the series' (every recorded value is in exactly
 * one native bucket, the zero bucket included). Only non-negative values are recorded: no negative buckets.
 */
export function exponentialValue(
  n: NativeBuckets,
  last: NativeSnapshot | undefined,
  count: number,
  sum: number,
): ExponentialHistogram {
  const counts = Array.from(n.counts);
  if (last !== undefined) {
    const div = 2 ** (last.schema - n.schema);
    for (let k = 0; k < last.counts.length; k++) {
      const c = last.counts[k]!;
      if (c !== 0) {
        const at = Math.ceil((last.offset + k) / div) - n.offset;
        counts[at] = counts[at]! - c;
      }
    }
  }
  let first = 0;
  while (first < counts.length && counts[first] === 0) first++;
  let end = counts.length;
  while (end > first && counts[end - 1] === 0) end--;
  return {
    count,
    sum,
    scale: n.schema,
    zeroCount: n.zeroCount - (last?.zeroCount ?? 0),
    positive: { offset: first < end ? n.offset + first - 1 : 0, bucketCounts: counts.slice(first, end) },
    negative: { offset: 0, bucketCounts: [] },
  };
}
