import type { Row } from './cases.js';
import { formatNumber, formatRatio } from './utils.js';

const HEAD = [
  '#',
  'case',
  'unit',
  'this SDK',
  'prom-client',
  '@prometheus-io/client',
  '@platformatic/prom-client',
  'stock OTel',
  'uninstrumented',
  'ratio',
  'this / stock',
  'bar',
  'met',
];
/** Columns holding numbers (right-aligned). */
const NUMBERS = [3, 4, 5, 6, 7, 8];

function cells(r: Row): string[] {
  if (r.pending) return [r.id, r.title, r.unit, '—', '—', '—', '—', '—', '—', '—', '—', r.bar, `pending: ${r.pending}`];
  const vsStock = r.ours / r.stock;
  return [
    r.id,
    r.title,
    r.unit,
    formatNumber(r.ours),
    formatNumber(r.prom),
    formatNumber(r.promIo),
    formatNumber(r.platformatic),
    formatNumber(r.stock),
    formatNumber(r.none),
    Number.isFinite(r.ratio) ? `${formatRatio(r.ratio)} (${r.ratioLabel})` : '—',
    formatRatio(vsStock),
    r.bar,
    r.met === undefined ? '—' : r.met ? 'yes' : 'NO',
  ];
}

/** The table as aligned plain text (for the terminal). */
export function textTable(rows: readonly Row[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (NUMBERS.includes(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

/** The table in GitHub Markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').trim();
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i >= 3 && i <= 10 ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`);
  return out.join('\n');
}
