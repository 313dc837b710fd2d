import { median, nowNs } from './utils.js';

export interface OpsPlan {
  /** Operations run before timing starts (lets V8 optimise the loop and the recorder). */
  warmup: number;
  /** Timed batches; the result is the median batch. */
  batches: number;
  /** Operations per batch. */
  ops: number;
}

/** Median nanoseconds per operation of `batch(n)`, which must run `n` operations. */
export function nsPerOp(batch: (n: number) => void, plan: OpsPlan): number {
  batch(plan.warmup);
  const per: number[] = [];
  for (let b = 0; b < plan.batches; b++) {
    const t0 = nowNs();
    batch(plan.ops);
    per.push((nowNs() - t0) / plan.ops);
  }
  return median(per);
}
