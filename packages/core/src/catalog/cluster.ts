import type { MetricDefinition } from './types.js';

/** Self-metrics of the `node:cluster` aggregation (extensions; only the primary of a cluster records them). */
export const cluster = [
  {
    name: 'tuist_telemetry_cluster_scrape_missed_total',
    type: 'counter',
    family: 'telemetry',
    labels: ['reason'],
    extension: true,
    description:
      "Worker snapshots a cluster scrape went without (the worker's previous values were served): reason is timeout or malformed.",
    // At 0 from start-up in every process, so that rate() and alerts work before the first miss.
    initialSeries: [{ reason: 'timeout' }, { reason: 'malformed' }],
  },
] as const satisfies readonly MetricDefinition[];
