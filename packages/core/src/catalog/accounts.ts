import type { MetricDefinition } from './types.js';

export const accounts = [
  {
    name: 'tuist_accounts_organizations_total',
    type: 'gauge',
    family: 'accounts',
    labels: [],
    clusterAggregation: 'once',
    description: 'Total number of organization accounts (polled, last value).',
  },
  {
    name: 'tuist_accounts_users_total',
    type: 'gauge',
    family: 'accounts',
    labels: [],
    clusterAggregation: 'once',
    description: 'Total number of user accounts (polled, last value).',
  },
] as const satisfies readonly MetricDefinition[];
