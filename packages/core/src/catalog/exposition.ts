import type { MetricDefinition } from './types.js';

/** The self-metric of the Prometheus writer (prometheus/render.ts): metrics (or series of them) left out of a scrape. */
export const RENDER_ERRORS_METRIC = 'tuist_telemetry_render_errors_total';

export const exposition = [
  {
    name: RENDER_ERRORS_METRIC,
    type: 'counter',
    family: 'telemetry',
    labels: ['metric'],
    extension: true,
    description:
      'Scrapes that left a metric, or some of its series, out because it could not be written (the rest of the scrape was served); metric is its name.',
  },
] as const satisfies readonly MetricDefinition[];
