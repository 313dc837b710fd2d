import type { MetricStore } from '../store.js';

/** Starts Node runtime metrics on the store; returns a function that stops them. */
export function startRuntimeMetrics(_store: MetricStore): () => void {
  return () => {};
}
