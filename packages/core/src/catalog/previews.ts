import type { MetricDefinition } from './types.js';

export const previews = [
  {
    name: 'tuist_previews_uploads_total',
    type: 'counter',
    family: 'previews',
    labels: [],
    description: 'Number of preview uploads.',
  },
  {
    name: 'tuist_previews_downloads_total',
    type: 'counter',
    family: 'previews',
    labels: [],
    description: 'Number of preview downloads.',
  },
] as const satisfies readonly MetricDefinition[];
