import type { MetricDefinition } from './types.js';

export const authentication = [
  {
    name: 'tuist_authentication_token_refresh_error_total',
    type: 'counter',
    family: 'authentication',
    labels: ['cli_version', 'reason'],
    description: 'Token refresh errors by CLI version and reason (e.g. invalid_token_type, invalid_token).',
  },
] as const satisfies readonly MetricDefinition[];
