/** The table of the benchmark: which processes to run and how each row is computed from their results. */

export type Impl = 'ours' | 'ours-recordRun' | 'ours-span' | 'ours-native' | 'ours-protobuf' | 'prom-client' | 'stock' | 'plain' | 'instrumented' | 'instrumentation' | 'stock-instr';

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
  /** this SDK (or instrumented), prom-client, stock OTel, uninstrumented. */
  ours: number;
  prom: number;
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
  { id: 'counter', impls: ['ours', 'ours-recordRun', 'prom-client', 'stock'] },
  { id: 'histogram', impls: ['ours', 'ours-span', 'ours-native', 'prom-client', 'stock'] },
  { id: 'scrape', impls: ['ours', 'ours-protobuf', 'prom-client', 'stock'] },
  // The stock exporter serves no gzip.
  { id: 'gzip', impls: ['ours', 'ours-protobuf', 'prom-client'] },
  { id: 'concurrent', impls: ['ours', 'prom-client'] },
  { id: 'undici', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'http' },
  { id: 'pg', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'db' },
  { id: 'memory', impls: ['ours', 'prom-client', 'stock'], nodeFlags: ['--expose-gc'] },
  { id: 'cluster', impls: ['ours', 'prom-client'] },
];

const MB = 1024 * 1024;

function get(r: Results, caseId: string, impl: Impl, metric: string, scale = 1): number {
  const v = r[caseId]?.[impl]?.[metric];
  return v === undefined ? NaN : v / scale;
}

function vsProm(
  r: Results,
  id: string,
  title: string,
  unit: string,
  caseId: string,
  metric: string,
  bar: number,
  barText: string,
  opts: { scale?: number; oursImpl?: Impl } = {},
): Row {
  const ours = get(r, caseId, opts.oursImpl ?? 'ours', metric, opts.scale);
  const prom = get(r, caseId, 'prom-client', metric, opts.scale);
  const ratio = ours / prom;
  return {
    id,
    title,
    unit,
    ours,
    prom,
    stock: get(r, caseId, 'stock', metric, opts.scale),
    none: NaN,
    ratio,
    ratioLabel: 'this / prom-client',
    bar: barText,
    met: Number.isFinite(ratio) ? ratio <= bar : undefined,
  };
}

function vsNone(r: Results, id: string, title: string, unit: string, caseId: string, metric: string, withBar = true, oursImpl: Impl = 'instrumented'): Row {
  const ours = get(r, caseId, oursImpl, metric);
  const none = get(r, caseId, 'plain', metric);
  const ratio = ours / none;
  return {
    id,
    title,
    unit,
    ours,
    prom: NaN,
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
    stock,
    none: get(r, caseId, 'plain', metric),
    ratio,
    ratioLabel: 'this / stock instrumentation',
    bar: '<= 1x stock',
    met: Number.isFinite(ratio) ? ratio <= 1 : undefined,
  };
}

/** Every row of the table, computed from the medians (NaN where a result is missing). */
export function rows(r: Results, series: number, pending: Partial<Record<string, string>>): Row[] {
  const k = series >= 1000 ? `${series / 1000}k` : String(series);
  const perWorker = Math.max(1, Math.round(series / 4));
  const clusterK = perWorker >= 1000 ? `${perWorker / 1000}k` : String(perWorker);
  const out: Row[] = [
    vsProm(r, '1', 'counter inc, 3 labels (store.counter().add)', 'ns/op', 'counter', 'ns', 0.5, '<= 0.5x prom-client'),
    vsProm(r, '1b', 'counter inc, 3 labels (metrics.recordRun, no duration)', 'ns/op', 'counter', 'ns', 0.5, '<= 0.5x prom-client', { oursImpl: 'ours-recordRun' }),
    vsProm(r, '2', 'histogram record, 3 labels, B1 (15 buckets)', 'ns/op', 'histogram', 'ns', 0.5, '<= 0.5x prom-client'),
    vsProm(r, '2b', '  the same inside an active sampled span (keeps the exemplar)', 'ns/op', 'histogram', 'ns', Infinity, '—', { oursImpl: 'ours-span' }),
    vsProm(r, '2c', '  the same with native histograms on (TUIST_TELEMETRY_NATIVE_HISTOGRAMS)', 'ns/op', 'histogram', 'ns', Infinity, '—', { oursImpl: 'ours-native' }),
    vsProm(r, '3', `scrape of ${k} histogram series over HTTP`, 'ms/scrape', 'scrape', 'ms', 0.25, '<= 0.25x prom-client'),
    vsProm(r, '3b', `  body size of that scrape`, 'MB', 'scrape', 'bytes', Infinity, '—', { scale: MB }),
    vsProm(r, '3c', `  longest event-loop block during that scrape`, 'ms', 'scrape', 'blockMs', Infinity, '—'),
    vsProm(r, '3d', `  the same scrape with Accept-Encoding: gzip (to the last decompressed byte)`, 'ms/scrape', 'gzip', 'ms', Infinity, '—'),
    vsProm(r, '3e', `  bytes on the wire with gzip`, 'MB', 'gzip', 'bytes', Infinity, '—', { scale: MB }),
    vsProm(r, '3f', `  longest event-loop block during a gzip scrape`, 'ms', 'gzip', 'blockMs', Infinity, '—'),
    vsProm(r, '3g', `  20 concurrent scrapes of it, until the last body is read`, 'ms', 'concurrent', 'ms', Infinity, '—'),
    vsProm(r, '3h', `  longest event-loop block during those 20 scrapes`, 'ms', 'concurrent', 'blockMs', Infinity, '—'),
    vsProm(r, '3i', `  the scrape of row 3 in protobuf (Prometheus with native histograms asks for it)`, 'ms/scrape', 'scrape', 'ms', Infinity, '—', { oursImpl: 'ours-protobuf' }),
    vsProm(r, '3j', `  body size of the protobuf scrape`, 'MB', 'scrape', 'bytes', Infinity, '—', { scale: MB, oursImpl: 'ours-protobuf' }),
    vsProm(r, '3k', `  bytes on the wire of the protobuf scrape with gzip`, 'MB', 'gzip', 'bytes', Infinity, '—', { scale: MB, oursImpl: 'ours-protobuf' }),
    vsNone(r, '4', 'undici requests, keep-alive local server', 'req/s', 'undici', 'rps'),
    vsNone(r, '4b', '  client CPU per request', 'µs', 'undici', 'cpuUs', false),
    vsNone(r, '4c', 'undici requests via TuistUndiciInstrumentation (global dispatcher)', 'req/s', 'undici', 'rps', true, 'instrumentation'),
    vsStockInstr(r, '4d', '  client CPU per request: TuistUndiciInstrumentation vs instrumentation-undici (metrics on)', 'µs', 'undici', 'cpuUs'),
    vsNone(r, '5', 'pg pool SELECT 1', 'queries/s', 'pg', 'qps'),
    vsNone(r, '5b', '  client CPU per query', 'µs', 'pg', 'cpuUs', false),
    vsNone(r, '5c', 'pg pool SELECT 1 via TuistPgInstrumentation', 'queries/s', 'pg', 'qps', true, 'instrumentation'),
    vsStockInstr(r, '5d', '  client CPU per query: TuistPgInstrumentation vs instrumentation-pg (metrics on)', 'µs', 'pg', 'cpuUs'),
    vsProm(r, '6', 'heap per 10k histogram series', 'MB', 'memory', 'heap', 1, '<= 1x prom-client', { scale: MB }),
    vsProm(r, '6b', 'RSS per 10k histogram series', 'MB', 'memory', 'rss', 1, '<= 1x prom-client', { scale: MB }),
    vsProm(r, '6c', '  RSS per 10k series after a scrape too', 'MB', 'memory', 'rssScraped', Infinity, '—', { scale: MB }),
    vsProm(r, '7', `scrape of 4 cluster workers × ${clusterK} histogram series, served by the primary`, 'ms/scrape', 'cluster', 'ms', 0.25, '<= 0.25x prom-client AggregatorRegistry'),
    vsProm(r, '7b', '  primary CPU per scrape', 'ms', 'cluster', 'cpuMs', Infinity, '—'),
    vsProm(r, '7c', '  body size of that scrape', 'MB', 'cluster', 'bytes', Infinity, '—', { scale: MB }),
  ];
  for (const row of out) {
    if (row.bar === '—') row.met = undefined;
    const p = pending[row.id.startsWith('4') ? 'undici' : row.id.startsWith('5') ? 'pg' : ''];
    if (p) row.pending = p;
  }
  return out;
}
