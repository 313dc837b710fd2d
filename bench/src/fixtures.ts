/** Inputs shared by every implementation, built once so that no case pays for building them in its loop. */

const NAMES = ['build', 'test', 'generate', 'cache'];

/** 16 `tuist_runs_total`-shaped label sets (name, is_ci, status); index with `i & 15`. */
export const RUN_LABELS: readonly Readonly<Record<string, string>>[] = NAMES.flatMap((name) =>
  ['true', 'false'].flatMap((is_ci) => ['0', '1'].map((status) => ({ name, is_ci, status }))),
);

/** The same 16 runs as `recordRun` takes them. */
export const RUNS: readonly { name: string; isCi: boolean; status: 0 | 1 }[] = RUN_LABELS.map((l) => ({
  name: l.name!,
  isCi: l.is_ci === 'true',
  status: l.status === '1' ? 1 : 0,
}));

/** 1024 durations spread log-uniformly over 1 ms .. 2,000,000 ms (all B1 buckets); index with `i & 1023`. */
export const DURATIONS: Float64Array = (() => {
  const out = new Float64Array(1024);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648; // deterministic LCG
    out[i] = Math.round(Math.exp((x / 2147483648) * Math.log(2_000_000)) * 1000) / 1000;
  }
  return out;
})();

/** A realistic S3 object key for series `i` (the high-cardinality label of the scrape and memory cases). */
export function objectKey(i: number): string {
  return `cache/tuist/ios-app/builds/${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}/artifact-${i}.zip`;
}

/** The histogram of the scrape and memory cases: one `object_key` label, B1 buckets. */
export const SERIES_METRIC = 'tuist_storage_get_object_size_size_bytes';

/** The counter of the load case (8): one `object_key` label, one series per key. */
export const COUNTER_SERIES_METRIC = 'tuist_storage_get_object_size_count';
