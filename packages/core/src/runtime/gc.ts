import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import type { MetricStore } from '../store/store.js';

/** prom-client's `kind` label values for Node's GC kinds. */
const KINDS: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** The `kind` label of a `gc` performance entry (`unknown` for a kind Node may add later). */
export function gcKind(entry: PerformanceEntry): string {
  const detail = entry.detail as { kind?: unknown } | null | undefined;
  const kind = typeof detail?.kind === 'number' ? detail.kind : undefined;
  return (kind !== undefined && KINDS.get(kind)) || 'unknown';
}

/** Times every garbage collection in `nodejs_gc_duration_seconds{kind}` through a `gc` PerformanceObserver. */
export function startGcMetrics(store: MetricStore): () => void {
  const duration = store.histogram('nodejs_gc_duration_seconds');
  const observer = new PerformanceObserver((list) => {
    // Every entry of the batch (prom-client keeps only the first one).
    for (const entry of list.getEntries()) duration.record(entry.duration / 1000, { kind: gcKind(entry) });
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
