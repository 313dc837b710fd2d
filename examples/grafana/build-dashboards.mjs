#!/usr/bin/env node
// Writes the Grafana dashboards in ./dashboards from the compact definitions below:
//   node examples/grafana/build-dashboards.mjs
// The JSON files are checked in (Grafana reads them as they are); a test in examples/tuist-server checks that every
// expression is accepted by a real Prometheus, returns data from the demo, and uses only catalog metrics, and that
// these files are what this script writes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const I = 'instance=~"$instance"';
const R = '$__rate_interval';
const rate = (m, sel = '') => `rate(${m}{${[I, sel].filter(Boolean).join(',')}}[${R}])`;
const p95 = (m, by = '') => `histogram_quantile(0.95, sum by (le${by ? `, ${by}` : ''}) (${rate(`${m}_bucket`)}))`;
const p50 = (m, by = '') => `histogram_quantile(0.5, sum by (le${by ? `, ${by}` : ''}) (${rate(`${m}_bucket`)}))`;

/** One panel: `t` targets as [expr, legend]; `w`/`h` grid size. */
const ts = (title, unit, t, { w = 12, h = 8, description, stack = false } = {}) => ({
  kind: 'timeseries',
  title,
  unit,
  t,
  w,
  h,
  description,
  stack,
});
const stat = (title, unit, t, { w = 6, h = 4, description } = {}) => ({
  kind: 'stat',
  title,
  unit,
  t,
  w,
  h,
  description,
});
const row = (title) => ({ kind: 'row', title });

const dashboards = [
  {
    uid: 'tuist-runs-cache',
    title: 'Tuist · Runs, cache and previews',
    description:
      'Runs reported by the CLI, binary cache events and transfers, previews, token refresh errors, projects and accounts.',
    panels: [
      row('Runs'),
      ts('Runs per second by command', 'reqps', [[`sum by (name) (${rate('tuist_runs_total')})`, '{{name}}']]),
      ts('Run failure ratio', 'percentunit', [
        [`sum(${rate('tuist_runs_total', 'status="1"')}) / sum(${rate('tuist_runs_total')})`, 'failed / all'],
      ]),
      ts('Runs on CI and locally', 'reqps', [[`sum by (is_ci) (${rate('tuist_runs_total')})`, 'is_ci={{is_ci}}']], {
        stack: true,
      }),
      ts('Run duration by command (p50, p95)', 'ms', [
        [p50('tuist_runs_duration_milliseconds', 'name'), 'p50 {{name}}'],
        [p95('tuist_runs_duration_milliseconds', 'name'), 'p95 {{name}}'],
      ]),
      row('Binary cache'),
      ts(
        'Cache events by type',
        'ops',
        [[`sum by (event_type) (${rate('tuist_cache_events_total')})`, '{{event_type}}']],
        { stack: true },
      ),
      ts('Cache hit ratio', 'percentunit', [
        [
          `sum(${rate('tuist_cache_events_total', 'event_type=~"local_hit|remote_hit"')}) / sum(${rate('tuist_cache_events_total')})`,
          'hits / all',
        ],
      ]),
      ts('Cache uploads and downloads', 'ops', [
        [`sum(${rate('tuist_cache_uploads_total')})`, 'uploads'],
        [`sum(${rate('tuist_cache_downloads_total')})`, 'downloads'],
      ]),
      ts('Cache bytes transferred', 'Bps', [
        [`sum(${rate('tuist_cache_uploaded_bytes')})`, 'uploaded'],
        [`sum(${rate('tuist_cache_downloaded_bytes')})`, 'downloaded'],
      ]),
      row('Previews and authentication'),
      ts('Previews', 'ops', [
        [`sum(${rate('tuist_previews_uploads_total')})`, 'uploads'],
        [`sum(${rate('tuist_previews_downloads_total')})`, 'downloads'],
      ]),
      ts('Token refresh errors by reason and CLI version', 'ops', [
        [
          `sum by (reason, cli_version) (${rate('tuist_authentication_token_refresh_error_total')})`,
          '{{reason}} ({{cli_version}})',
        ],
      ]),
      row('Projects and accounts'),
      // Every instance counts the same database: take the largest value, never the sum.
      stat('Projects', 'short', [[`max(tuist_projects_total{${I}})`, 'projects']], {
        w: 8,
        description:
          'Polled from the database every 10 minutes; every instance reports the same total, so it is max(), not sum().',
      }),
      stat('Users', 'short', [[`max(tuist_accounts_users_total{${I}})`, 'users']], { w: 8 }),
      stat('Organizations', 'short', [[`max(tuist_accounts_organizations_total{${I}})`, 'organizations']], { w: 8 }),
    ],
  },
  {
    uid: 'tuist-storage',
    title: 'Tuist · Storage (S3)',
    description:
      'Every storage operation of the Tuist server (tuist_storage_*) and, beyond the docs, every S3 command.',
    panels: [
      row('Operations'),
      ts(
        'Operations per second',
        'ops',
        [
          [`sum(${rate('tuist_storage_check_object_existence_count')})`, 'check object existence'],
          [`sum(${rate('tuist_storage_get_object_size_count')})`, 'get object size'],
          [`sum(${rate('tuist_storage_get_object_as_string_count')})`, 'get object as string'],
          [`sum(${rate('tuist_storage_generate_download_presigned_url_count')})`, 'presign download'],
          [`sum(${rate('tuist_storage_multipart_start_upload_duration_count')})`, 'multipart start'],
          [`sum(${rate('tuist_storage_multipart_generate_upload_part_presigned_url_count')})`, 'presign part upload'],
          [`sum(${rate('tuist_storage_multipart_complete_upload_count')})`, 'multipart complete'],
          [`sum(${rate('tuist_storage_delete_all_objects_count')})`, 'delete all objects'],
        ],
        { w: 24, stack: true },
      ),
      ts(
        'Operation duration (p95)',
        'ms',
        [
          [p95('tuist_storage_check_object_existence_duration_milliseconds'), 'check object existence'],
          [p95('tuist_storage_get_object_size_duration_miliseconds'), 'get object size'],
          [p95('tuist_storage_get_object_as_string_duration_milliseconds'), 'get object as string'],
          [p95('tuist_storage_generate_download_presigned_url_duration_milliseconds'), 'presign download'],
          [p95('tuist_storage_multipart_start_upload_duration_milliseconds'), 'multipart start'],
          [
            p95('tuist_storage_multipart_generate_upload_part_presigned_url_duration_milliseconds'),
            'presign part upload',
          ],
          [p95('tuist_storage_multipart_complete_upload_duration_milliseconds'), 'multipart complete'],
        ],
        { w: 24 },
      ),
      ts('Delete all objects of a project', 'ms', [
        [p95('tuist_storage_delete_all_objects_duration_milliseconds'), 'p95 duration'],
        [`sum(increase(tuist_storage_delete_all_objects_count{${I}}[${R}]))`, 'deletions'],
      ]),
      ts('Object size (get object size)', 'bytes', [
        [p50('tuist_storage_get_object_size_size_bytes'), 'p50'],
        [p95('tuist_storage_get_object_size_size_bytes'), 'p95'],
        [
          `sum(${rate('tuist_storage_get_object_size_size_bytes_sum')}) / sum(${rate('tuist_storage_get_object_size_size_bytes_count')})`,
          'mean',
        ],
      ]),
      row('S3 commands (SDK extension)'),
      ts('S3 commands by outcome', 'ops', [
        [`sum by (command, outcome) (${rate('tuist_storage_command_count')})`, '{{command}} {{outcome}}'],
      ]),
      ts('S3 command duration (p95)', 'ms', [
        [p95('tuist_storage_command_duration_milliseconds', 'command'), '{{command}}'],
      ]),
    ],
  },
  {
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
      ts(
        'Sending (p95)',
        'ns',
        [[p95('tuist_http_send_duration_nanoseconds', 'request_method'), '{{request_method}}']],
        { w: 8 },
      ),
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
  },
  {
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
  },
  {
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
        [
          `sum by (worker, state) (${rate('tuist_job_processing_duration_milliseconds_count')})`,
          '{{worker}} {{state}}',
        ],
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
        [`sum by (kind) (${rate('nodejs_gc_duration_seconds_sum')})`, '{{kind}}'],
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
  },
];

const datasource = { type: 'prometheus', uid: '${datasource}' };

function layout(panels) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let id = 1;
  return panels.map((p) => {
    if (p.kind === 'row') {
      if (x > 0) y += rowHeight;
      x = 0;
      rowHeight = 0;
      const panel = {
        id: id++,
        type: 'row',
        title: p.title,
        collapsed: false,
        gridPos: { h: 1, w: 24, x: 0, y },
        panels: [],
      };
      y += 1;
      return panel;
    }
    if (x + p.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const gridPos = { h: p.h, w: p.w, x, y };
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
    // Latency panels (a quantile over a histogram) show exemplars: dots that open the trace of a request in that
    // bucket (the data source's exemplarTraceIdDestinations, provisioning/datasources/prometheus.yml).
    const targets = p.t.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource,
      expr,
      legendFormat,
      range: true,
      ...(expr.includes('histogram_quantile(') ? { exemplar: true } : {}),
    }));
    const base = { id: id++, type: p.kind, title: p.title, datasource, gridPos, targets };
    if (p.description) base.description = p.description;
    if (p.kind === 'stat') {
      return {
        ...base,
        fieldConfig: {
          defaults: {
            unit: p.unit,
            color: { mode: 'thresholds' },
            thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
          },
          overrides: [],
        },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: 'value',
          graphMode: 'area',
          textMode: 'auto',
        },
      };
    }
    return {
      ...base,
      fieldConfig: {
        defaults: {
          unit: p.unit,
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stack ? 30 : 10,
            showPoints: 'never',
            stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
          },
        },
        overrides: [],
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    };
  });
}

function dashboard(d) {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['tuist', 'tuist-telemetry'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
          options: [],
        },
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource,
          query: { query: 'label_values(tuist_application_info, instance)', refId: 'instance' },
          definition: 'label_values(tuist_application_info, instance)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          sort: 1,
          hide: 0,
          options: [],
        },
      ],
    },
    annotations: { list: [] },
    links: [
      {
        title: 'Tuist dashboards',
        type: 'dashboards',
        tags: ['tuist-telemetry'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    panels: layout(d.panels),
  };
}

/** The dashboards as file name -> JSON text. */
export function renderDashboards() {
  return Object.fromEntries(dashboards.map((d) => [`${d.uid}.json`, JSON.stringify(dashboard(d), null, 2) + '\n']));
}

// `--check`: exit 1 when the checked-in files differ from what this script writes (or when one is extra/missing).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rendered = renderDashboards();
  if (process.argv.includes('--check')) {
    const dir = path.join(here, 'dashboards');
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const stale = [...new Set([...onDisk, ...Object.keys(rendered)])].filter(
      (f) => !existsSync(path.join(dir, f)) || rendered[f] !== readFileSync(path.join(dir, f), 'utf8'),
    );
    if (stale.length) {
      console.error(`out of date: ${stale.join(', ')}; run node examples/grafana/build-dashboards.mjs`);
      process.exit(1);
    }
    console.log('dashboards are up to date');
  } else {
    for (const [file, text] of Object.entries(rendered)) {
      writeFileSync(path.join(here, 'dashboards', file), text);
      console.log(`wrote examples/grafana/dashboards/${file}`);
    }
  }
}
