import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { MetricStore } from '../store/store.js';

/** Sampling resolution of the event-loop delay monitor, in ms (prom-client's default). */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * Event-loop delay and utilisation. The only work between collections is Node's delay monitor (a libuv timer
 * every 10 ms, in C++). At each collection the min/max/mean/stddev/percentiles of the delays since the previous
 * collection are read and the monitor is reset, as prom-client does; `nodejs_eventloop_lag_seconds` is the time a
 * `setImmediate` scheduled at the previous collection waited (so it lags one collection behind, like prom-client).
 */
export function startEventLoopMetrics(store: MetricStore, options: { utilization?: boolean } = {}): () => void {
  const measureUtilization = options.utilization ?? true;
  const lag = store.gauge('nodejs_eventloop_lag_seconds');
  const min = store.gauge('nodejs_eventloop_lag_min_seconds');
  const max = store.gauge('nodejs_eventloop_lag_max_seconds');
  const mean = store.gauge('nodejs_eventloop_lag_mean_seconds');
  const stddev = store.gauge('nodejs_eventloop_lag_stddev_seconds');
  const p50 = store.gauge('nodejs_eventloop_lag_p50_seconds');
  const p90 = store.gauge('nodejs_eventloop_lag_p90_seconds');
  const p99 = store.gauge('nodejs_eventloop_lag_p99_seconds');
  const utilization = store.gauge('nodejs_eventloop_utilization_ratio');

  let histogram: IntervalHistogram | undefined;
  try {
    histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    histogram.enable();
  } catch {
    histogram = undefined; // not implemented on this runtime: the delay gauges stay 0
  }
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let pending: NodeJS.Immediate | undefined;
  let stopped = false;

  /** The wait of the probe scheduled at the previous collection, once it ran (seconds). */
  let measured: number | undefined;

  const unsubscribe = store.onCollect(() => {
    // Set at the collection, not when the probe runs: a render that yields (gzip members are compressed on the
    // thread pool) would otherwise let this collection's own probe overwrite the value while the body is written.
    if (measured !== undefined) lag.set(measured);
    if (pending === undefined) {
      const start = process.hrtime.bigint();
      pending = setImmediate(() => {
        pending = undefined;
        if (!stopped) measured = Number(process.hrtime.bigint() - start) / 1e9;
      });
    }

    if (histogram !== undefined) {
      if (histogram.count > 0) {
        min.set(histogram.min / 1e9);
        max.set(histogram.max / 1e9);
        mean.set(histogram.mean / 1e9);
        stddev.set(histogram.stddev / 1e9);
        p50.set(histogram.percentile(50) / 1e9);
        p90.set(histogram.percentile(90) / 1e9);
        p99.set(histogram.percentile(99) / 1e9);
      } else {
        // No sample since the previous collection (two collections within 10 ms): no delay was observed.
        for (const g of [min, max, mean, stddev, p50, p90, p99]) g.set(0);
      }
      histogram.reset();
    }

    if (!measureUtilization) return;
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, lastElu).utilization;
    lastElu = now;
    if (Number.isFinite(u)) utilization.set(u);
  });

  return () => {
    stopped = true;
    unsubscribe();
    histogram?.disable();
    if (pending !== undefined) clearImmediate(pending);
    pending = undefined;
  };
}
