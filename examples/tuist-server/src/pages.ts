/** The demo's three kinds of pages, one per PostHog page section, each carrying the analytics browser snippet. */
export type Section = 'marketing' | 'dashboard' | 'api-docs';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const NAV =
  '<nav><a href="/">Home</a> · <a href="/dashboard">Dashboard</a> · <a href="/api/docs">API docs</a> · <a href="/metrics-info">Metrics</a></nav>';

function layout(title: string, section: Section, body: string, snippet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · Tuist demo</title>
${snippet}
</head>
<body data-section="${section}">
${NAV}
<main>
${body}
</main>
</body>
</html>
`;
}

export function marketingPage(snippet: string): string {
  return layout(
    'Tuist',
    'marketing',
    '<h1>Build faster with Tuist</h1><p>A demo server: every request you see here is measured.</p>',
    snippet,
  );
}

export interface DashboardData {
  user: { name: string; email: string | null };
  projects: readonly string[];
}

export function dashboardPage(data: DashboardData, snippet: string): string {
  const items = data.projects.map((p) => `<li>${escapeHtml(p)}</li>`).join('');
  return layout(
    'Dashboard',
    'dashboard',
    `<h1>Dashboard</h1><p>Signed in as ${escapeHtml(data.user.name)}</p><ul>${items}</ul>`,
    snippet,
  );
}

export function apiDocsPage(snippet: string): string {
  const routes = [
    'POST /api/runs {name, is_ci, status, duration_ms}',
    'POST /api/cache/events {events: [{event_type, count}]}',
    'HEAD /api/projects/:account/:project/cache/:hash',
    'GET /api/projects/:account/:project/cache/:hash',
    'POST /api/projects/:account/:project/cache/:hash/multipart/start',
    'POST /api/projects/:account/:project/cache/:hash/multipart/parts/:part?upload_id=',
    'POST /api/projects/:account/:project/cache/:hash/multipart/complete {upload_id, parts}',
    'POST /api/projects/:account/:project/previews (body: the preview)',
    'GET /api/projects/:account/:project/previews/:id',
    'POST /api/projects {account, name}',
    'DELETE /api/projects/:account/:project',
    'POST /api/auth/refresh {refresh_token, cli_version}',
  ];
  return layout(
    'API documentation',
    'api-docs',
    `<h1>API</h1><ul>${routes.map((r) => `<li><code>${escapeHtml(r)}</code></li>`).join('')}</ul>`,
    snippet,
  );
}

export function metricsInfoPage(metricsUrl: string | undefined, exporters: string): string {
  const body = metricsUrl
    ? `<h1>Metrics</h1><p>Prometheus scrapes <a href="${escapeHtml(metricsUrl)}">${escapeHtml(metricsUrl)}</a>.</p>`
    : `<h1>Metrics</h1><p>Metrics are exported with: ${escapeHtml(exporters)}.</p>`;
  return layout('Metrics', 'marketing', body, '');
}
