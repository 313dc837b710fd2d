// Renders the metric reference (docs/metrics.md) from core's catalog (the single source of truth) and checks or
// rewrites the section between the markers. `node --import tsx --conditions=source scripts/metric-reference.ts --write`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { catalog, B1, B2, clusterAggregationOf, type MetricDefinition } from '../packages/core/src/internal.js';

const START =
  '<!-- metric-reference:start (generated from packages/core/src/catalog by scripts/metric-reference.ts) -->';
const END = '<!-- metric-reference:end -->';

function buckets(d: MetricDefinition): string {
  if (!d.buckets) return '';
  if (d.buckets.join() === B1.join()) return 'B1';
  if (d.buckets.join() === B2.join()) return 'B2';
  return d.buckets.join(', ');
}

/** A gauge's type with its node:cluster rule (counters and histograms are always summed). */
function type(d: MetricDefinition): string {
  if (d.type !== 'gauge') return d.type;
  const rule = clusterAggregationOf(d);
  return `gauge (cluster: ${rule === 'perWorker' ? 'per worker' : rule})`;
}

function labels(d: MetricDefinition): string {
  const l = [...d.labels];
  for (const o of d.optionalLabels ?? []) l.push(`${o} (optional)`);
  return l.join(', ');
}

/** The buckets line above every table of the catalog. */
export const BUCKETS_LINE = `B1 = ${B1.join(', ')} (ms and bytes). B2 = ${B2.join(', ')} (ns).`;

/**
 * One catalog family as a `####` heading and its table (one row per metric, in catalog order). The root README's
 * reference and the package READMEs' tables (scripts/package-metric-tables.ts) are both made of these.
 */
export function familySection(fam: string): string {
  const defs = catalog.filter((d) => d.family === fam);
  if (defs.length === 0) throw new Error(`the catalog has no family ${fam}`);
  const ext = defs.every((d) => d.extension) ? ' (extension, beyond the Tuist docs)' : '';
  let out = `#### ${fam}${ext}\n\n| name | type | unit | labels | buckets | description |\n|---|---|---|---|---|---|\n`;
  for (const d of defs) {
    const name =
      '`' +
      d.name +
      '`' +
      (d.serverName ? ` (server profile: \`${d.serverName}\`)` : '') +
      (d.extension && !ext ? ' *(extension)*' : '');
    out += `| ${name} | ${type(d)} | ${d.unit ?? ''} | ${labels(d)} | ${buckets(d)} | ${d.description.replace(/\|/g, '\\|')} |\n`;
  }
  return out;
}

/** The catalog's families, in catalog order. */
export function families(): string[] {
  return [...new Set(catalog.map((d) => d.family))];
}

export function renderReference(): string {
  let out = `${START}\n`;
  out += `${BUCKETS_LINE} Under node:cluster, counters and histograms are summed over the workers and each gauge follows its rule (see "Running under node:cluster").\n\n`;
  for (const fam of families()) out += `${familySection(fam)}\n`;
  return out + END;
}

/** The page that holds the metric reference (the README links to it). */
export function referencePath(): string {
  return fileURLToPath(new URL('../docs/metrics.md', import.meta.url));
}

export function currentReference(page: string): string | undefined {
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  return a < 0 || b < 0 ? undefined : page.slice(a, b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = referencePath();
  const page = readFileSync(path, 'utf8');
  const cur = currentReference(page);
  if (!cur) throw new Error('docs/metrics.md has no metric reference markers');
  if (process.argv.includes('--write')) {
    writeFileSync(path, page.replace(cur, renderReference()));
    console.log('docs/metrics.md metric reference updated');
  } else if (cur !== renderReference()) {
    console.error('docs/metrics.md metric reference is out of date: run with --write');
    process.exit(1);
  }
}
