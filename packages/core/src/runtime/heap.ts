import { getHeapSpaceStatistics } from 'node:v8';
import type { MetricStore } from '../store/store.js';
import { heapSpaceLabel } from './readings.js';

/**
 * V8 heap sizes (`process.memoryUsage()`) and per-space sizes (`v8.getHeapSpaceStatistics()`), read at collection
 * time; without `spaces` (a runtime whose engine has no V8 spaces) the per-space gauges are left out.
 */
export function startHeapMetrics(store: MetricStore, options: { spaces?: boolean } = {}): () => void {
  const spaces = options.spaces ?? true;
  const total = store.gauge('nodejs_heap_size_total_bytes');
  const used = store.gauge('nodejs_heap_size_used_bytes');
  const external = store.gauge('nodejs_external_memory_bytes');
  const spaceTotal = store.gauge('nodejs_heap_space_size_total_bytes');
  const spaceUsed = store.gauge('nodejs_heap_space_size_used_bytes');
  const spaceAvailable = store.gauge('nodejs_heap_space_size_available_bytes');

  return store.onCollect(() => {
    try {
      const m = process.memoryUsage();
      total.set(m.heapTotal);
      used.set(m.heapUsed);
      external.set(m.external);
    } catch {
      // process.memoryUsage can throw on some platforms; keep the previous values.
    }
    if (!spaces) return;
    for (const s of getHeapSpaceStatistics()) {
      const labels = { space: heapSpaceLabel(s.space_name) };
      spaceTotal.set(s.space_size, labels);
      spaceUsed.set(s.space_used_size, labels);
      spaceAvailable.set(s.space_available_size, labels);
    }
  });
}
