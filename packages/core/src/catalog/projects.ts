import type { MetricDefinition } from './types.js';

export const projects: readonly MetricDefinition[] = [
  { name: 'tuist_projects_total', type: 'gauge', family: 'projects', labels: [], clusterAggregation: 'once',
    description: 'Total number of projects (polled, last value).' },
];
