import type { GaugeFamily, MetricStore } from '../store/store.js';
import { countByConstructorName, countStrings } from './readings.js';

/** Node's undocumented introspection functions prom-client reads (present in every Node release up to 24). */
interface ProcessInternals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
}

function setCounts(family: GaugeFamily, counts: Map<string, number>): void {
  // Types seen at the previous collection and gone now must disappear, as prom-client resets the gauge.
  family.clear();
  for (const [type, n] of counts) family.set(n, { type });
}

/**
 * Active resources (`process.getActiveResourcesInfo()`), libuv handles and requests, counted by type at collection
 * time. A list that is unavailable on this runtime leaves its gauges empty.
 */
export function startHandleMetrics(store: MetricStore): () => void {
  const resources = store.gauge('nodejs_active_resources');
  const resourcesTotal = store.gauge('nodejs_active_resources_total');
  const handles = store.gauge('nodejs_active_handles');
  const handlesTotal = store.gauge('nodejs_active_handles_total');
  const requests = store.gauge('nodejs_active_requests');
  const requestsTotal = store.gauge('nodejs_active_requests_total');
  const internals = process as unknown as ProcessInternals;

  return store.onCollect(() => {
    if (typeof process.getActiveResourcesInfo === 'function') {
      const list = process.getActiveResourcesInfo();
      setCounts(resources, countStrings(list));
      resourcesTotal.set(list.length);
    }
    if (typeof internals._getActiveHandles === 'function') {
      const list = internals._getActiveHandles();
      setCounts(handles, countByConstructorName(list));
      handlesTotal.set(list.length);
    }
    if (typeof internals._getActiveRequests === 'function') {
      const list = internals._getActiveRequests();
      setCounts(requests, countByConstructorName(list));
      requestsTotal.set(list.length);
    }
  });
}
