/** Reading the checked-in Grafana dashboards and the metric names their PromQL uses. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricDefinition } from '@tuist-telemetry/core/internal';
import type { PrometheusServer, PromSeries } from '@tuist-telemetry/testing';
import { eventually } from '@tuist-telemetry/testing';

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

export interface TemplateVariable {
  name: string;
  query: unknown;
  current?: { text: unknown; value: unknown };
  options?: { text: string; value: string }[];
}

export function readDashboards(): {
  file: string;
  json: { uid: string; title: string; panels: Panel[]; templating: { list: TemplateVariable[] } };
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

/** The Histograms variable's choices and the value each gives `$histograms` (what build-dashboards.mjs writes). */
export const HISTOGRAM_KINDS = { auto: '0', classic: '-1', native: '1' } as const;
export type HistogramKind = keyof typeof HISTOGRAM_KINDS;

/** Grafana's variables replaced by values Prometheus accepts: every instance, a fixed rate window, a histogram kind. */
export function resolveVariables(expr: string, rateWindow: string, histograms: HistogramKind = 'auto'): string {
  return expr
    .replaceAll('$__rate_interval', rateWindow)
    .replaceAll('$__interval', rateWindow)
    .replaceAll('$__range', rateWindow)
    .replaceAll('$instance', '.*')
    .replaceAll('$histograms', HISTOGRAM_KINDS[histograms]);
}

/** Whether an expression reads a histogram through the Histograms variable (classic or native by `$histograms`). */
export const readsHistograms = (expr: string): boolean => expr.includes('$histograms');

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
  let s = expr.replace(/\$\w+/g, ' ').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
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

const hasData = (series: PromSeries[]): boolean => series.some((s) => Number.isFinite(Number(s.value[1])));
const label = (q: DashboardQuery) => `${q.dashboard} / ${q.panel}: ${q.expr}`;

/**
 * Runs every dashboard expression (variables resolved, `histograms` as given) until each returns data or `timeoutMs`
 * passes: the expressions Prometheus rejected (a PromQL error is final) and those still without data.
 */
export async function queriesWithoutData(
  prom: PrometheusServer,
  histograms: HistogramKind,
  timeoutMs = 30_000,
): Promise<{ rejected: string[]; empty: string[] }> {
  // A window that spans everything since the demo started: every series that ever changed has a rate.
  const pending = new Map(dashboardQueries().map((q) => [label(q), resolveVariables(q.expr, '5m', histograms)]));
  const rejected: string[] = [];
  await eventually(
    'every dashboard expression returns data',
    async () => {
      for (const [what, expr] of pending) {
        try {
          if (hasData(await prom.vector(expr))) pending.delete(what);
        } catch (err) {
          rejected.push(`${what}\n    ${(err as Error).message}`);
          pending.delete(what);
        }
      }
      return pending.size === 0 ? true : undefined;
    },
    timeoutMs,
    1000,
  ).catch(() => undefined);
  return { rejected, empty: [...pending.keys()] };
}

/**
 * For a Prometheus that stores the demo's histograms as `stored` series: what is wrong with the Histograms
 * variable, evaluated at one instant. Each histogram expression must return data with `stored`, the same series
 * and values with `auto`, and nothing with the other kind (so a panel never shows a kind that was not asked for).
 */
export async function histogramKindProblems(prom: PrometheusServer, stored: 'classic' | 'native'): Promise<string[]> {
  const other = stored === 'classic' ? 'native' : 'classic';
  const time = Date.now() / 1000;
  const sorted = (v: PromSeries[]) => v.map((s) => JSON.stringify([s.metric, s.value[1]])).sort();
  const problems: string[] = [];
  const queries = dashboardQueries().filter((q) => readsHistograms(q.expr));
  if (queries.length < 20) problems.push(`only ${queries.length} expressions read histograms`);
  for (const q of queries) {
    const at = (k: HistogramKind) => prom.vector(resolveVariables(q.expr, '5m', k), time);
    const [auto, same, wrong] = [await at('auto'), await at(stored), await at(other)];
    if (!hasData(same)) problems.push(`${label(q)}: no data with ${stored}`);
    if (JSON.stringify(sorted(auto)) !== JSON.stringify(sorted(same)))
      problems.push(`${label(q)}: auto ${JSON.stringify(sorted(auto))} but ${stored} ${JSON.stringify(sorted(same))}`);
    if (wrong.length > 0) problems.push(`${label(q)}: ${wrong.length} series with ${other}`);
  }
  return problems;
}
