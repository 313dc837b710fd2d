// The dashboards of what the Tuist server runs on: the outgoing HTTP client, the database pool, the Node.js
// runtime, the HTTP server and background jobs.
import { countRate, I, p50, p95, rate, sumRate } from './promql.mjs';
import { row, stat, ts } from './panels.mjs';

export const httpClient = {
  uid: 'tuist-http-client',
  title: 'Tuist · HTTP client',
  description:
    'Outgoing HTTP (undici and fetch) phase by phase: queue, idle time, connect, send, receive; pool connections.',
  panels: [
    row('Requests'),
    ts('Requests by host and status', 'reqps', [
      [
        `sum by (request_host, response_status) (${rate('tuist_http_request_count')})`,
        '{{request_host}} {{response_status}}',
      ],
    ]),
    ts('Request duration by host (p50, p95)', 'ns', [
      [p50('tuist_http_request_duration_nanosecond', 'request_host'), 'p50 {{request_host}}'],
      [p95('tuist_http_request_duration_nanosecond', 'request_host'), 'p95 {{request_host}}'],
    ]),
    row('Phases'),
    ts(
      'Waiting for a connection (p95)',
      'ns',
      [[p95('tuist_http_queue_duration_nanoseconds', 'request_host'), '{{request_host}}']],
      { w: 8 },
    ),
    ts(
      'Connection idle before reuse (p95)',
      'ns',
      [[p95('tuist_http_queue_idle_time_nanoseconds', 'request_host'), '{{request_host}}']],
      { w: 8 },
    ),
    ts('Connecting (p95)', 'ns', [[p95('tuist_http_connection_duration_nanoseconds'), 'connect']], { w: 8 }),
    ts('Sending (p95)', 'ns', [[p95('tuist_http_send_duration_nanoseconds', 'request_method'), '{{request_method}}']], {
      w: 8,
    }),
    ts('Receiving (p95)', 'ns', [[p95('tuist_http_receive_duration_nanoseconds', 'status'), '{{status}}']], { w: 8 }),
    ts(
      'Phase rates',
      'ops',
      [
        [`sum(${rate('tuist_http_queue_count')})`, 'dequeued'],
        [`sum(${rate('tuist_http_connection_count')})`, 'connections opened'],
        [`sum(${rate('tuist_http_send_count')})`, 'sent'],
        [`sum(${rate('tuist_http_receive_count')})`, 'received'],
      ],
      { w: 8 },
    ),
    row('Connection pools'),
    ts('Connections in use by origin', 'short', [
      [`sum by (url) (tuist_http_queue_in_use_connections{${I}})`, '{{url}}'],
    ]),
    ts('Connections available by origin', 'short', [
      [`sum by (url) (tuist_http_queue_available_connections{${I}})`, '{{url}}'],
    ]),
  ],
};

export const database = {
  uid: 'tuist-database',
  title: 'Tuist · Database pool',
  description: 'The PostgreSQL connection pool (tuist_repo_pool_*) and, beyond the docs, query timings.',
  panels: [
    row('Pool'),
    ts(
      'Queries waiting for a connection',
      'short',
      [[`sum by (instance) (tuist_repo_pool_checkout_queue_length{${I}})`, '{{instance}}']],
      { w: 8 },
    ),
    ts(
      'Connections ready (idle)',
      'short',
      [[`sum by (instance) (tuist_repo_pool_ready_conn_count{${I}})`, '{{instance}}']],
      { w: 8 },
    ),
    ts('Pool size', 'short', [[`sum by (instance) (tuist_repo_pool_size{${I}})`, '{{instance}}']], { w: 8 }),
    ts(
      'Connections opened and closed',
      'ops',
      [
        [`sum(${rate('tuist_repo_pool_db_connection_connected')})`, 'opened'],
        [`sum(${rate('tuist_repo_pool_db_connection_disconnected')})`, 'closed'],
      ],
      { w: 24 },
    ),
    row('Queries (SDK extension)'),
    ts('Queries by result', 'ops', [[`sum by (result) (${rate('tuist_repo_query_count')})`, '{{result}}']]),
    ts('Query time (p95)', 'ms', [
      [p95('tuist_repo_query_total_time_milliseconds'), 'total'],
      [p95('tuist_repo_query_queue_time_milliseconds'), 'waiting for a connection'],
      [p95('tuist_repo_query_query_time_milliseconds'), 'running'],
    ]),
  ],
};

export const nodeRuntime = {
  uid: 'tuist-node-runtime',
  title: 'Tuist · Node.js runtime',
  description: 'Process and Node.js runtime metrics (prom-client names), the HTTP server and background jobs.',
  panels: [
    row('Application'),
    stat('Uptime', 's', [[`max(time() - process_start_time_seconds{${I}})`, 'uptime']]),
    stat('Instances', 'short', [[`count(tuist_application_info{${I}})`, 'instances']]),
    stat('Node.js version', 'short', [[`count by (version) (nodejs_version_info{${I}})`, '{{version}}']]),
    stat('Open file descriptors (max share)', 'percentunit', [
      [`max(process_open_fds{${I}} / process_max_fds{${I}})`, 'fds'],
    ]),
    ts('HTTP requests served by route and status', 'reqps', [
      [`sum by (route, status) (${rate('tuist_http_server_requests_total')})`, '{{route}} {{status}}'],
    ]),
    ts('HTTP request duration by route (p95)', 'ms', [
      [p95('tuist_http_server_request_duration_milliseconds', 'route'), '{{route}}'],
    ]),
    ts('Background jobs by worker and state', 'ops', [
      [countRate('tuist_job_processing_duration_milliseconds', 'worker, state'), '{{worker}} {{state}}'],
    ]),
    ts('Background job duration (p95)', 'ms', [
      [p95('tuist_job_processing_duration_milliseconds', 'worker'), '{{worker}}'],
    ]),
    row('CPU and event loop'),
    ts('CPU', 'percentunit', [
      [`sum by (instance) (${rate('process_cpu_user_seconds_total')})`, 'user {{instance}}'],
      [`sum by (instance) (${rate('process_cpu_system_seconds_total')})`, 'system {{instance}}'],
      [`sum by (instance) (${rate('process_cpu_seconds_total')})`, 'total {{instance}}'],
    ]),
    ts('Event loop utilisation', 'percentunit', [[`nodejs_eventloop_utilization_ratio{${I}}`, '{{instance}}']]),
    ts('Event loop lag', 's', [
      [`nodejs_eventloop_lag_seconds{${I}}`, 'current {{instance}}'],
      [`nodejs_eventloop_lag_p50_seconds{${I}}`, 'p50 {{instance}}'],
      [`nodejs_eventloop_lag_p90_seconds{${I}}`, 'p90 {{instance}}'],
      [`nodejs_eventloop_lag_p99_seconds{${I}}`, 'p99 {{instance}}'],
      [`nodejs_eventloop_lag_max_seconds{${I}}`, 'max {{instance}}'],
    ]),
    ts('Event loop lag spread', 's', [
      [`nodejs_eventloop_lag_min_seconds{${I}}`, 'min {{instance}}'],
      [`nodejs_eventloop_lag_mean_seconds{${I}}`, 'mean {{instance}}'],
      [`nodejs_eventloop_lag_stddev_seconds{${I}}`, 'stddev {{instance}}'],
    ]),
    row('Memory and garbage collection'),
    ts('Process memory', 'bytes', [
      [`process_resident_memory_bytes{${I}}`, 'RSS {{instance}}'],
      [`process_heap_bytes{${I}}`, 'heap {{instance}}'],
      [`process_virtual_memory_bytes{${I}}`, 'virtual {{instance}}'],
    ]),
    ts('V8 heap', 'bytes', [
      [`nodejs_heap_size_used_bytes{${I}}`, 'used {{instance}}'],
      [`nodejs_heap_size_total_bytes{${I}}`, 'total {{instance}}'],
      [`nodejs_external_memory_bytes{${I}}`, 'external {{instance}}'],
    ]),
    ts('Heap spaces (used / size / available)', 'bytes', [
      [`sum by (space) (nodejs_heap_space_size_used_bytes{${I}})`, 'used {{space}}'],
      [`sum by (space) (nodejs_heap_space_size_total_bytes{${I}})`, 'size {{space}}'],
      [`sum by (space) (nodejs_heap_space_size_available_bytes{${I}})`, 'available {{space}}'],
    ]),
    ts('Time in garbage collection by kind', 'percentunit', [
      [sumRate('nodejs_gc_duration_seconds', 'kind'), '{{kind}}'],
    ]),
    ts('GC pauses (p95)', 's', [[p95('nodejs_gc_duration_seconds', 'kind'), '{{kind}}']]),
    ts('Active handles, requests and resources', 'short', [
      [`sum by (instance) (nodejs_active_handles_total{${I}})`, 'handles {{instance}}'],
      [`sum by (instance) (nodejs_active_requests_total{${I}})`, 'requests {{instance}}'],
      [`sum by (instance) (nodejs_active_resources_total{${I}})`, 'resources {{instance}}'],
      [`sum by (type) (nodejs_active_handles{${I}})`, 'handles: {{type}}'],
      [`sum by (type) (nodejs_active_resources{${I}})`, 'resources: {{type}}'],
    ]),
  ],
};
