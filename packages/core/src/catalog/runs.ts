import type { MetricDefinition } from './types.js';
import { B1 } from './buckets.js';

export const runs = [
  {
    name: 'tuist_runs_total',
    type: 'counter',
    family: 'runs',
    labels: ['name', 'is_ci', 'status'],
    description: 'Total number of Tuist runs.',
  },
  {
    name: 'tuist_runs_duration_milliseconds',
    type: 'histogram',
    family: 'runs',
    unit: 'ms',
    buckets: B1,
    labels: ['name', 'is_ci', 'status'],
    description: 'Total duration of each Tuist run in milliseconds.',
  },
] as const satisfies readonly MetricDefinition[];
