import type { MetricDefinition } from './types.js';

export const projects = [
  {
    name: 'tuist_projects_total',
    type: 'gauge',
    family: 'projects',
    labels: [],
    clusterAggregation: 'once',
    description: 'Total number of projects (polled, last value).',
  },
] as const satisfies readonly MetricDefinition[];
