import type { MetricDefinition } from './types.js';
import { DB_QUERY_BUCKETS } from './buckets.js';

/** `repo` appears only on pools instrumented with a name, so several pools never mix. */
const repo = ['repo'] as const;

export const database = [
  { name: 'tuist_repo_pool_checkout_queue_length', type: 'gauge', family: 'database', labels: [], optionalLabels: repo, clusterAggregation: 'sum',
    description: 'Queries waiting for a database connection (read at collection time).' },
  { name: 'tuist_repo_pool_ready_conn_count', type: 'gauge', family: 'database', labels: [], optionalLabels: repo, clusterAggregation: 'sum',
    description: 'Idle database connections ready to be checked out (read at collection time).' },
  { name: 'tuist_repo_pool_db_connection_connected', type: 'counter', family: 'database', labels: [], optionalLabels: repo,
    description: 'Database connections opened.' },
  { name: 'tuist_repo_pool_db_connection_disconnected', type: 'counter', family: 'database', labels: [], optionalLabels: repo,
    description: 'Database connections closed, server-side terminations included.' },
  // Extensions, as the later Tuist server has them.
  { name: 'tuist_repo_pool_size', type: 'gauge', family: 'database', labels: [], optionalLabels: repo, clusterAggregation: 'sum', extension: true,
    description: 'Maximum number of connections of the pool.' },
  { name: 'tuist_repo_query_count', type: 'counter', family: 'database', labels: ['result'], optionalLabels: repo,
    extension: true, description: 'Queries made through the pool; result is ok or error.' },
  { name: 'tuist_repo_query_total_time_milliseconds', type: 'histogram', family: 'database', unit: 'ms',
    buckets: DB_QUERY_BUCKETS, labels: ['result'], optionalLabels: repo, extension: true,
    description: 'Total time of each query: waiting for a connection plus running it.' },
  { name: 'tuist_repo_query_queue_time_milliseconds', type: 'histogram', family: 'database', unit: 'ms',
    buckets: DB_QUERY_BUCKETS, labels: ['result'], optionalLabels: repo, extension: true,
    description: 'Time each query waited for a connection.' },
  { name: 'tuist_repo_query_query_time_milliseconds', type: 'histogram', family: 'database', unit: 'ms',
    buckets: DB_QUERY_BUCKETS, labels: ['result'], optionalLabels: repo, extension: true,
    description: 'Time each query ran on its connection.' },
] as const satisfies readonly MetricDefinition[];
