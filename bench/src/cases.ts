/** The table of the benchmark: which processes to run and how each row is computed from their results. */
import { ANCHORS, type Anchor } from './anchors.js';

export type Impl =
  | 'ours'
  | 'ours-recordRun'
  | 'ours-span'
  | 'ours-native'
  | 'ours-protobuf'
  | Anchor
  | 'stock'
  | 'plain'
  | 'instrumented'
  | 'instrumentation'
  | 'stock-instr';

export interface Run {
  caseId: string;
  /** One implementation per process in a full run; the smoke run measures all of a case's in one process. */
  impls: Impl[];
  /** Extra node flags (the memory case needs `--expose-gc`). */
  nodeFlags?: string[];
}

/** Median result of every (case, impl), by metric: `results[caseId][impl][metric]`. */
export type Results = Record<string, Partial<Record<Impl, Record<string, number>>>>;

export interface Row {
  id: string;
  title: string;
  unit: string;
  /** this SDK (or instrumented), prom-client, @prometheus-io/client, @platformatic/prom-client, stock OTel, uninstrumented. */
  ours: number;
  prom: number;
  promIo: number;
  platformatic: number;
  stock: number;
  none: number;
  /** The ratio the bar is about and how it is written, e.g. `this / prom-client`. */
  ratio: number;
  ratioLabel: string;
  bar: string;
  met: boolean | undefined;
  /** Why a row has no numbers (an instrumentation package not written yet). */
  pending?: string;
}

export interface CaseSpec {
  id: string;
  impls: Impl[];
  nodeFlags?: string[];
  /** The instrumentation package the case measures (it is pending until that package exports its entry point). */
  needs?: 'http' | 'db';
}

export const CASES: CaseSpec[] = [
  { id: 'counter', impls: ['ours', 'ours-recordRun', ...ANCHORS, 'stock'] },
  { id: 'histogram', impls: ['ours', 'ours-span', 'ours-native', ...ANCHORS, 'stock'] },
  { id: 'scrape', impls: ['ours', 'ours-protobuf', ...ANCHORS, 'stock'] },
  // The stock exporter serves no gzip.
  { id: 'gzip', impls: ['ours', 'ours-protobuf', ...ANCHORS] },
  // The scrape under app traffic: this SDK and the JS clients (gzip, as Prometheus asks).
  { id: 'load', impls: ['ours', ...ANCHORS] },
  { id: 'concurrent', impls: ['ours', 'prom-client'] },
  { id: 'undici', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'http' },
  { id: 'pg', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'db' },
  { id: 'memory', impls: ['ours', ...ANCHORS, 'stock'], nodeFlags: ['--expose-gc'] },
  { id: 'cluster', impls: ['ours', 'prom-client'] },
];

const MB = 1024 * 1024;

function get(r: Results, caseId: string, impl: Impl, metric: string, scale = 1): number {
  const v = r[caseId]?.[impl]?.[metric];
  return v === undefined ? NaN : v / scale;
}

/** Short names of the anchors in ratio labels. */
const SHORT: Record<Anchor, string> = {
  'prom-client': 'prom-client',
  'prometheus-io': '@prometheus-io/client',
  platformatic: '@platformatic/prom-client',
};

/**
 * A row of this SDK against the JS clients. `versus: 'fastest'` divides by the smallest of the anchors' numbers of
 * this run (every number here is a cost: time, bytes, delay) and names it; `'prom-client'` by prom-client's.
 */
function vsAnchors(
  r: Results,
  id: string,
  title: string,
  unit: string,
  caseId: string,
  metric: string,
  bar: number,
  barText: string,
  opts: { scale?: number; oursImpl?: Impl; versus?: 'fastest' | 'prom-client' } = {},
): Row {
  const ours = get(r, caseId, opts.oursImpl ?? 'ours', metric, opts.scale);
  const of = (a: Anchor) => get(r, caseId, a, metric, opts.scale);
  let ratio: number;
  let ratioLabel: string;
  if (opts.versus === 'prom-client') {
    ratio = ours / of('prom-client');
    ratioLabel = 'this / prom-client';
  } else {
    const measured = ANCHORS.filter((a) => Number.isFinite(of(a)));
    const fastest = measured.reduce<Anchor | undefined>(
      (best, a) => (best === undefined || of(a) < of(best) ? a : best),
      undefined,
    );
    ratio = fastest ? ours / of(fastest) : NaN;
    ratioLabel = fastest ? `this / fastest JS client: ${SHORT[fastest]}` : 'this / fastest JS client';
  }
  return {
    id,
    title,
    unit,
    ours,
    prom: of('prom-client'),
    promIo: of('prometheus-io'),
    platformatic: of('platformatic'),
    stock: get(r, caseId, 'stock', metric, opts.scale),
    none: NaN,
    ratio,
    ratioLabel,
    bar: barText,
    met: Number.isFinite(ratio) ? ratio <= bar : undefined,
  };
}

function vsNone(
  r: Results,
  id: string,
  title: string,
  unit: string,
  caseId: string,
  metric: string,
  withBar = true,
  oursImpl: Impl = 'instrumented',
): Row {
  const ours = get(r, caseId, oursImpl, metric);
  const none = get(r, caseId, 'plain', metric);
  const ratio = ours / none;
  return {
    id,
    title,
    unit,
    ours,
    prom: NaN,
    promIo: NaN,
    platformatic: NaN,
    stock: NaN,
    none,
    ratio,
    ratioLabel: 'instrumented / plain',
    bar: withBar ? '>= 0.95x (<= 5% cost)' : '—',
    met: withBar && Number.isFinite(ratio) ? ratio >= 0.95 : undefined,
  };
}

/** Client CPU per operation: the Instrumentation path against the stock OTel instrumentation with its metrics on. */
function vsStockInstr(r: Results, id: string, title: string, unit: string, caseId: string, metric: string): Row {
  const ours = get(r, caseId, 'instrumentation', metric);
  const stock = get(r, caseId, 'stock-instr', metric);
  const ratio = ours / stock;
  return {
    id,
    title,
    unit,
    ours,
    prom: NaN,
    promIo: NaN,
    platformatic: NaN,
    stock,
    none: get(r, caseId, 'plain', metric),
    ratio,
    ratioLabel: 'this / stock instrumentation',
    bar: '<= 1x stock',
    met: Number.isFinite(ratio) ? ratio <= 1 : undefined,
  };
}

/** Every row of the table, computed from the medians (NaN where a result is missing). */
export function rows(
  r: Results,
  p: { series: number; loadSeries: number; loadRps: number },
  pending: Partial<Record<string, string>>,
): Row[] {
  const thousands = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  const series = p.series;
  const k = thousands(series);
  const loadK = thousands(p.loadSeries);
  const rps = p.loadRps.toLocaleString('en-US');
  const perWorker = Math.max(1, Math.round(series / 4));
  const clusterK = perWorker >= 1000 ? `${perWorker / 1000}k` : String(perWorker);
  const out: Row[] = [
    vsAnchors(
      r,
      '1',
      'counter inc, 3 labels (store.counter().add)',
      'ns/op',
      'counter',
      'ns',
      0.5,
      '<= 0.5x the fastest JS client',
    ),
    vsAnchors(
      r,
      '1b',
      'counter inc, 3 labels (metrics.recordRun, no duration)',
      'ns/op',
      'counter',
      'ns',
      0.5,
      '<= 0.5x the fastest JS client',
      { oursImpl: 'ours-recordRun' },
    ),
    vsAnchors(
      r,
      '2',
      'histogram record, 3 labels, B1 (15 buckets)',
      'ns/op',
      'histogram',
      'ns',
      0.5,
      '<= 0.5x the fastest JS client',
    ),
    vsAnchors(
      r,
      '2b',
      '  the same inside an active sampled span (keeps the exemplar)',
      'ns/op',
      'histogram',
      'ns',
      Infinity,
      '—',
      { oursImpl: 'ours-span' },
    ),
    vsAnchors(
      r,
      '2c',
      '  the same with native histograms on (TUIST_TELEMETRY_NATIVE_HISTOGRAMS)',
      'ns/op',
      'histogram',
      'ns',
      Infinity,
      '—',
      { oursImpl: 'ours-native' },
    ),
    vsAnchors(
      r,
      '3',
      `scrape of ${k} histogram series over HTTP`,
      'ms/scrape',
      'scrape',
      'ms',
      0.15,
      '<= 0.15x the fastest JS client',
    ),
    vsAnchors(r, '3b', `  body size of that scrape`, 'MB', 'scrape', 'bytes', Infinity, '—', { scale: MB }),
    vsAnchors(r, '3c', `  longest event-loop block during that scrape`, 'ms', 'scrape', 'blockMs', Infinity, '—'),
    vsAnchors(
      r,
      '3d',
      `  the same scrape with Accept-Encoding: gzip (to the last decompressed byte)`,
      'ms/scrape',
      'gzip',
      'ms',
      0.25,
      '<= 0.25x the fastest JS client',
    ),
    vsAnchors(r, '3e', `  bytes on the wire with gzip`, 'MB', 'gzip', 'bytes', Infinity, '—', { scale: MB }),
    vsAnchors(r, '3f', `  longest event-loop block during a gzip scrape`, 'ms', 'gzip', 'blockMs', Infinity, '—'),
    vsAnchors(
      r,
      '3l',
      `  gzip scrape when 1% of the series changed since the last scrape`,
      'ms/scrape',
      'gzip',
      'msChanged1',
      Infinity,
      '—',
    ),
    vsAnchors(
      r,
      '3g',
      `  20 concurrent scrapes of it, until the last body is read`,
      'ms',
      'concurrent',
      'ms',
      Infinity,
      '—',
      { versus: 'prom-client' },
    ),
    vsAnchors(
      r,
      '3h',
      `  longest event-loop block during those 20 scrapes`,
      'ms',
      'concurrent',
      'blockMs',
      Infinity,
      '—',
      { versus: 'prom-client' },
    ),
    vsAnchors(
      r,
      '3i',
      `  the scrape of row 3 in protobuf (Prometheus with native histograms asks for it)`,
      'ms/scrape',
      'scrape',
      'ms',
      Infinity,
      '—',
      { oursImpl: 'ours-protobuf' },
    ),
    vsAnchors(r, '3j', `  body size of the protobuf scrape`, 'MB', 'scrape', 'bytes', Infinity, '—', {
      scale: MB,
      oursImpl: 'ours-protobuf',
    }),
    vsAnchors(r, '3k', `  bytes on the wire of the protobuf scrape with gzip`, 'MB', 'gzip', 'bytes', Infinity, '—', {
      scale: MB,
      oursImpl: 'ours-protobuf',
    }),
    vsNone(r, '4', 'undici requests, keep-alive local server', 'req/s', 'undici', 'rps'),
    vsNone(r, '4b', '  client CPU per request', 'µs', 'undici', 'cpuUs', false),
    vsNone(
      r,
      '4c',
      'undici requests via TuistUndiciInstrumentation (global dispatcher)',
      'req/s',
      'undici',
      'rps',
      true,
      'instrumentation',
    ),
    vsStockInstr(
      r,
      '4d',
      '  client CPU per request: TuistUndiciInstrumentation vs instrumentation-undici (metrics on)',
      'µs',
      'undici',
      'cpuUs',
    ),
    vsNone(r, '5', 'pg pool SELECT 1', 'queries/s', 'pg', 'qps'),
    vsNone(r, '5b', '  client CPU per query', 'µs', 'pg', 'cpuUs', false),
    vsNone(r, '5c', 'pg pool SELECT 1 via TuistPgInstrumentation', 'queries/s', 'pg', 'qps', true, 'instrumentation'),
    vsStockInstr(
      r,
      '5d',
      '  client CPU per query: TuistPgInstrumentation vs instrumentation-pg (metrics on)',
      'µs',
      'pg',
      'cpuUs',
    ),
    vsAnchors(r, '6', 'heap per 10k histogram series', 'MB', 'memory', 'heap', 1, '<= 1x prom-client', {
      scale: MB,
      versus: 'prom-client',
    }),
    vsAnchors(r, '6b', 'RSS per 10k histogram series', 'MB', 'memory', 'rss', 1, '<= 1x prom-client', {
      scale: MB,
      versus: 'prom-client',
    }),
    vsAnchors(r, '6c', '  RSS per 10k series after a scrape too', 'MB', 'memory', 'rssScraped', Infinity, '—', {
      scale: MB,
      versus: 'prom-client',
    }),
    vsAnchors(r, '6d', '  heap per 10k series after a gzip scrape too', 'MB', 'memory', 'heapGzip', Infinity, '—', {
      scale: MB,
      versus: 'prom-client',
    }),
    vsAnchors(
      r,
      '7',
      `scrape of 4 cluster workers × ${clusterK} histogram series, served by the primary`,
      'ms/scrape',
      'cluster',
      'ms',
      0.25,
      '<= 0.25x prom-client AggregatorRegistry',
      { versus: 'prom-client' },
    ),
    vsAnchors(r, '7b', '  primary CPU per scrape', 'ms', 'cluster', 'cpuMs', Infinity, '—', { versus: 'prom-client' }),
    vsAnchors(r, '7c', '  body size of that scrape', 'MB', 'cluster', 'bytes', Infinity, '—', {
      scale: MB,
      versus: 'prom-client',
    }),
    vsAnchors(
      r,
      '8',
      `p99 event-loop delay of an app serving ${rps} req/s while ${loadK} counter series are scraped (gzip)`,
      'ms',
      'load',
      'elP99',
      Infinity,
      '—',
    ),
    vsAnchors(r, '8b', '  longest event-loop delay during that scrape', 'ms', 'load', 'elMax', Infinity, '—'),
    vsAnchors(r, '8c', "  p99 latency of the app's requests during that scrape", 'ms', 'load', 'appP99', Infinity, '—'),
    vsAnchors(
      r,
      '8d',
      '  the scrape itself, under that load (to the last decompressed byte)',
      'ms/scrape',
      'load',
      'scrapeMs',
      Infinity,
      '—',
    ),
    vsAnchors(
      r,
      '8e',
      '  p99 event-loop delay with the same load and no scrape (baseline)',
      'ms',
      'load',
      'baseElP99',
      Infinity,
      '—',
    ),
    vsAnchors(
      r,
      '8f',
      "  p99 latency of the app's requests with no scrape (baseline)",
      'ms',
      'load',
      'baseAppP99',
      Infinity,
      '—',
    ),
  ];
  for (const row of out) {
    if (row.bar === '—') row.met = undefined;
    const why = pending[row.id.startsWith('4') ? 'undici' : row.id.startsWith('5') ? 'pg' : ''];
    if (why) row.pending = why;
  }
  return out;
}
