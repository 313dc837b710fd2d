import type { OpsPlan } from './timing.js';

/** Iteration counts of one run; the smoke plan only proves that every case still works. */
export interface CaseParams {
  ops: OpsPlan;
  /** Histogram series of the scrape and memory cases. */
  series: number;
  /** Timed scrapes per process (after two warm-up scrapes). */
  scrapes: number;
  /** undici requests per process (a tenth more are run first as warm-up). */
  requests: number;
  /** pg `SELECT 1` queries per process (likewise). */
  queries: number;
  /** Requests or queries in flight at once. */
  concurrency: number;
  /** Counter series of the load case (8), and the app requests per second sent while it is scraped. */
  loadSeries: number;
  loadRps: number;
}

export const FULL: CaseParams = {
  ops: { warmup: 300_000, batches: 7, ops: 400_000 },
  series: 10_000,
  scrapes: 7,
  requests: 30_000,
  queries: 20_000,
  concurrency: 16,
  loadSeries: 100_000,
  loadRps: 1_000,
};

/** `--quick`: the full workloads (series, bodies, request rates) with fewer iterations: a check that takes minutes. */
export const QUICK: CaseParams = {
  ...FULL,
  ops: { warmup: 100_000, batches: 3, ops: 200_000 },
  scrapes: 3,
  requests: 5_000,
  queries: 3_000,
};

export const SMOKE: CaseParams = {
  ops: { warmup: 2_000, batches: 2, ops: 2_000 },
  series: 300,
  scrapes: 2,
  requests: 300,
  queries: 200,
  concurrency: 4,
  loadSeries: 1_000,
  loadRps: 200,
};
