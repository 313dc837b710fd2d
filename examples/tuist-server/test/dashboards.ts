/** Reading the checked-in Grafana dashboards and the metric names their PromQL uses. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricDefinition } from '@tuist-telemetry/core/internal';

export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../grafana/dashboards');

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: { expr: string; refId: string; exemplar?: boolean }[];
  panels?: Panel[];
}

export function readDashboards(): {
  file: string;
  json: { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; query: unknown }[] } };
}[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) }));
}

/** Every panel expression of every dashboard. */
export function dashboardQueries(): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (dashboard: string, panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ dashboard, panel: `${p.title} [${t.refId}]`, expr: t.expr });
      if (p.panels) walk(dashboard, p.panels);
    }
  };
  for (const d of readDashboards()) walk(d.file, d.json.panels);
  return out;
}

/** Grafana's variables replaced by values Prometheus accepts: every instance, a fixed rate window. */
export function resolveVariables(expr: string, rateWindow: string): string {
  return expr
    .replaceAll('$__rate_interval', rateWindow)
    .replaceAll('$__interval', rateWindow)
    .replaceAll('$__range', rateWindow)
    .replaceAll('$instance', '.*');
}

const NOT_METRICS = new Set([
  // aggregation operators and keywords
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
  'Inf',
  'NaN',
]);

/** Metric names an expression selects (functions, aggregations, labels, strings, ranges and numbers removed). */
export function metricNamesIn(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/(^|[^a-zA-Z0-9_:])(\d+(\.\d+)?(e[+-]?\d+)?)/gi, '$1 ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = s.slice(m.index! + m[0].length).trimStart();
    if (rest.startsWith('(')) continue; // a function or an aggregation
    if (NOT_METRICS.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** The catalog definition a sample name belongs to (`x_bucket`, `x_sum`, `x_count` of histogram `x` included). */
export function catalogEntryFor(name: string, catalog: readonly MetricDefinition[]): MetricDefinition | undefined {
  const exact = catalog.find((d) => d.name === name);
  if (exact) return exact;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return undefined;
  const base = catalog.find((d) => d.name === m[1]);
  return base?.type === 'histogram' ? base : undefined;
}
