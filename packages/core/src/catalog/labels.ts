import type { MetricDefinition } from './types.js';

/** The self-metric of the label policy (labels/policy.ts): where label values hit their bound. */
export const LABEL_OVERFLOW_METRIC = 'tuist_telemetry_label_overflow_total';

export const labelPolicy = [
  {
    name: LABEL_OVERFLOW_METRIC,
    type: 'counter',
    family: 'telemetry',
    labels: ['metric', 'label'],
    extension: true,
    description:
      'Recordings whose label value was recorded as __overflow__ because the label of that metric had reached TUIST_TELEMETRY_MAX_LABEL_VALUES distinct values; label="__series__": recordings of a new label set kept in the all-__overflow__ series because the metric had reached TUIST_TELEMETRY_MAX_SERIES_PER_METRIC series.',
  },
] as const satisfies readonly MetricDefinition[];
