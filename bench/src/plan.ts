import type { OpsPlan } from './timing.js';

/** Iteration counts of one run; the smoke plan only proves that every case still works. */
export interface CaseParams {
  ops: OpsPlan;
  /** Histogram series of the scrape and memory cases. */
  series: number;
  /** Timed scrapes per process (after two warm-up scrapes). */
  scrapes: number;
  /**
   * undici requests per implementation and process set: `rounds` blocks, interleaved with the other implementations'
   * (rounds.ts; two blocks more are run first as warm-up). The smoke run: per process, a tenth more as warm-up.
   */
  requests: number;
  /** pg `SELECT 1` queries (likewise). */
  queries: number;
  /** Interleaved rounds of cases 4 and 5 per process set (not in the smoke run). */
  rounds: number;
  /**
   * Process sets of cases 4 and 5 per run (`--runs`). Each process compiles its own code, and the same build measured
   * 0.96x to 1.03x of itself from one process set to the next (an A/A test on Node 24, the clients pinned, see the
   * README): more, shorter sets weigh that lottery down better than more rounds in one set.
   */
  setsPerRun: number;
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
  requests: 25_000,
  queries: 15_000,
  rounds: 5,
  setsPerRun: 2,
  concurrency: 16,
  loadSeries: 100_000,
  loadRps: 1_000,
};

/** `--quick`: the full workloads (series, bodies, request rates) with fewer iterations: a check that takes minutes. */
export const QUICK: CaseParams = {
  ...FULL,
  ops: { warmup: 100_000, batches: 3, ops: 200_000 },
  scrapes: 3,
  requests: 8_000,
  queries: 6_000,
  rounds: 2,
};

export const SMOKE: CaseParams = {
  ops: { warmup: 2_000, batches: 2, ops: 2_000 },
  series: 300,
  scrapes: 2,
  requests: 300,
  queries: 200,
  rounds: 1,
  setsPerRun: 1,
  concurrency: 4,
  loadSeries: 1_000,
  loadRps: 200,
};
