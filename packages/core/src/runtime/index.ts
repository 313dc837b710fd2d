import { logger } from '../diag/index.js';
import type { MetricStore } from '../store/store.js';
import { startEventLoopMetrics } from './eventloop.js';
import { startGcMetrics } from './gc.js';
import { startHandleMetrics } from './handles.js';
import { startHeapMetrics } from './heap.js';
import { startProcessMetrics } from './process.js';
import { versionLabels } from './readings.js';
import { hostRuntime, type HostRuntime } from './which.js';

const log = logger('core');

/** A part of the runtime metrics that a runtime answers with constant zeros or empty lists. */
export type RuntimeGap = 'handles' | 'heap spaces' | 'event loop utilization' | 'gc';

/**
 * What each runtime cannot measure, checked on Bun 1.4.5 and Deno 2.9.6: their APIs exist but answer with constants
 * (`performance.eventLoopUtilization()` is always 0 on both; on Bun `process.getActiveResourcesInfo()` and
 * `_getActiveHandles()` are always empty, `v8.getHeapSpaceStatistics()` has JavaScriptCore's one heap as `old` and
 * zeros for the rest, and no `gc` performance entries exist). Those metrics are left out there, not served as 0.
 */
export const RUNTIME_GAPS: Readonly<Record<HostRuntime['name'], readonly RuntimeGap[]>> = {
  node: [],
  bun: ['handles', 'heap spaces', 'event loop utilization', 'gc'],
  deno: ['event loop utilization'],
};

/** The unlabeled gauges of each gap (labeled ones and histograms have no series until recorded). */
const GAP_METRICS: Readonly<Record<RuntimeGap, readonly string[]>> = {
  handles: ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'],
  'heap spaces': [],
  'event loop utilization': ['nodejs_eventloop_utilization_ratio'],
  gc: [],
};

/**
 * Starts the runtime metrics on the store (prom-client's default metric names, types and labels, plus
 * `nodejs_eventloop_utilization_ratio` and `tuist_runtime_info{runtime, version}`), leaving out what `runtime`
 * (this process's by default) cannot measure (`RUNTIME_GAPS`). Gauges are read in a collection callback; between collections only the
 * event-loop delay monitor and a `gc` PerformanceObserver run. Returns a function that stops them all (idempotent).
 */
export function startRuntimeMetrics(store: MetricStore, runtime: HostRuntime = hostRuntime()): () => void {
  const stops: (() => void)[] = [];
  const gaps = new Set(RUNTIME_GAPS[runtime.name]);
  const parts: [string, (s: MetricStore) => () => void][] = [
    ['process', startProcessMetrics],
    ['event loop', (s) => startEventLoopMetrics(s, { utilization: !gaps.has('event loop utilization') })],
    ['heap', (s) => startHeapMetrics(s, { spaces: !gaps.has('heap spaces') })],
  ];
  if (!gaps.has('handles')) parts.push(['handles', startHandleMetrics]);
  if (!gaps.has('gc')) parts.push(['gc', startGcMetrics]);
  // An unlabeled gauge is served (as 0) from the start: the ones this runtime cannot measure are left out instead.
  for (const gap of gaps) for (const name of GAP_METRICS[gap]) store.gauge(name).clear(true);
  for (const [name, start] of parts) {
    try {
      stops.push(start(store));
    } catch (err) {
      log.warn(`runtime metrics: the ${name} metrics could not start on this runtime; they are left out`, err);
    }
  }
  store.gauge('nodejs_version_info').set(1, versionLabels(process.version));
  store.gauge('tuist_runtime_info').set(1, { runtime: runtime.name, version: runtime.version });

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
