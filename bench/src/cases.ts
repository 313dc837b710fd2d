/** The table of the benchmark: which processes to run and how each row is computed from their results. */
import { ANCHORS } from './anchors.js';
import { MB, vsAnchors, vsNone, vsStockInstr, type Impl, type Results, type Row } from './row-kinds.js';

export type { Impl, Results, Row };

export interface Run {
  caseId: string;
  /** One implementation per process in a full run; the smoke run measures all of a case's in one process. */
  impls: Impl[];
  /** Extra node flags (the memory case needs `--expose-gc`). */
  nodeFlags?: string[];
  /** All implementations in interleaved rounds, one warmed-up process each (rounds.ts); `rep` rotates the order. */
  rounds?: { rep: number };
}
export interface CaseSpec {
  id: string;
  impls: Impl[];
  nodeFlags?: string[];
  /** Measured in interleaved rounds (rounds.ts) outside the smoke run: the instrumented-against-plain cases. */
  rounds?: boolean;
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
  { id: 'undici', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'http', rounds: true },
  { id: 'pg', impls: ['plain', 'instrumented', 'instrumentation', 'stock-instr'], needs: 'db', rounds: true },
  { id: 'memory', impls: ['ours', ...ANCHORS, 'stock'], nodeFlags: ['--expose-gc'] },
  { id: 'cluster', impls: ['ours', 'prom-client'] },
];

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
    // What a gzip scrape costs the host: CPU of the measured process (event loop, zlib's threads, GC) per scrape, full
    // and after 1% changed. 3l's time also holds the scraper's decompression of the whole body, the same for any server.
    vsAnchors(r, '3m', `  server CPU per gzip scrape`, 'ms', 'gzip', 'cpuMs', Infinity, '—'),
    vsAnchors(
      r,
      '3n',
      `  server CPU per gzip scrape when 1% of the series changed`,
      'ms',
      'gzip',
      'cpuMsChanged1',
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
    vsAnchors(r, '6e', '  of which the gzip member cache (this SDK)', 'MB', 'memory', 'gzipCache', Infinity, '—', {
      scale: MB,
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
