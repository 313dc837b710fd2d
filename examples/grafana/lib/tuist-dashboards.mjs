// The dashboards of the Tuist server's own metrics, as the Tuist docs name them: runs, cache, previews,
// authentication, projects and accounts; storage (S3).
import { I, mean, p50, p95, R, rate } from './promql.mjs';
import { row, stat, ts } from './panels.mjs';

export const runsCache = {
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
};

export const storage = {
  uid: 'tuist-storage',
  title: 'Tuist · Storage (S3)',
  description: 'Every storage operation of the Tuist server (tuist_storage_*) and, beyond the docs, every S3 command.',
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
      [mean('tuist_storage_get_object_size_size_bytes'), 'mean'],
    ]),
    row('S3 commands (SDK extension)'),
    ts('S3 commands by outcome', 'ops', [
      [`sum by (command, outcome) (${rate('tuist_storage_command_count')})`, '{{command}} {{outcome}}'],
    ]),
    ts('S3 command duration (p95)', 'ms', [
      [p95('tuist_storage_command_duration_milliseconds', 'command'), '{{command}}'],
    ]),
  ],
};
