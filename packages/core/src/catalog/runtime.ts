import type { MetricDefinition } from './types.js';

/** Node.js process and runtime metrics, with prom-client's default names (extensions). */
export const runtime: readonly MetricDefinition[] = [];
