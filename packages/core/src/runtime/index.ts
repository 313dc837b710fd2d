import { logger } from '../diag.js';
import type { MetricStore } from '../store.js';
import { startEventLoopMetrics } from './eventloop.js';
import { startGcMetrics } from './gc.js';
import { startHandleMetrics } from './handles.js';
import { startHeapMetrics } from './heap.js';
import { startProcessMetrics } from './process.js';
import { versionLabels } from './utils.js';

const log = logger('core');

/**
 * Starts the Node runtime metrics on the store (prom-client's default metric names, types and labels, plus
 * `nodejs_eventloop_utilization_ratio`). Gauges are read in a collection callback; between collections only the
 * event-loop delay monitor and a `gc` PerformanceObserver run. Returns a function that stops them all (idempotent).
 */
export function startRuntimeMetrics(store: MetricStore): () => void {
  const stops: (() => void)[] = [];
  const parts: [string, (s: MetricStore) => () => void][] = [
    ['process', startProcessMetrics],
    ['event loop', startEventLoopMetrics],
    ['heap', startHeapMetrics],
    ['handles', startHandleMetrics],
    ['gc', startGcMetrics],
  ];
  for (const [name, start] of parts) {
    try {
      stops.push(start(store));
    } catch (err) {
      log.warn(`runtime metrics: the ${name} metrics could not start on this runtime; they are left out`, err);
    }
  }
  store.gauge('nodejs_version_info').set(1, versionLabels(process.version));

  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const stop of stops) {
      try {
        stop();
      } catch (err) {
        log.warn('runtime metrics: stopping failed', err);
      }
    }
  };
}
