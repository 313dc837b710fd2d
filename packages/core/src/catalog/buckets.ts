/** Exponential bucket bounds, each truncated to an integer, as the Tuist server's PromEx plugins build them. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  // start * factor^i (not a running product): matches the documented B2 value 19,876,749 exactly.
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Math.trunc(start * factor ** i));
  return out;
}

/** B1: every millisecond and byte histogram of the docs (100, 200, 400, ... 1,638,400). */
export const B1: readonly number[] = Object.freeze(exponentialBuckets(100, 2, 15));
/** B2: every nanosecond histogram of the docs (2,000,000 ... 90,192,086,601). */
export const B2: readonly number[] = Object.freeze(exponentialBuckets(2_000_000, 2.15, 15));
/** Query timings of the later Tuist server (Ecto). */
export const DB_QUERY_BUCKETS: readonly number[] = Object.freeze([
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000, 30000,
]);
/** Job durations of the later Tuist server (Oban). */
export const JOB_BUCKETS: readonly number[] = Object.freeze([
  10, 100, 500, 1000, 5000, 20000, 60000, 300000, 600000, 1800000,
]);
/** prom-client's default GC duration buckets (seconds). */
export const GC_BUCKETS: readonly number[] = Object.freeze([0.001, 0.01, 0.1, 1, 2, 5]);
