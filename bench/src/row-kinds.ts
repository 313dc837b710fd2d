/**
 * The kinds of row of the benchmark's table (cases.ts lists the rows): this SDK against the JS clients, an
 * instrumented path against no instrumentation, and against the stock OpenTelemetry instrumentation.
 */
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

export const MB = 1024 * 1024;

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
export function vsAnchors(
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

export function vsNone(
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
  // Measured in interleaved rounds (rounds.ts): the median of the per-round ratios, else the ratio of the medians.
  const paired = get(r, caseId, oursImpl, `${metric}Ratio`);
  const ratio = Number.isFinite(paired) ? paired : ours / none;
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
export function vsStockInstr(r: Results, id: string, title: string, unit: string, caseId: string, metric: string): Row {
  const ours = get(r, caseId, 'instrumentation', metric);
  const stock = get(r, caseId, 'stock-instr', metric);
  const paired = get(r, caseId, 'instrumentation', `${metric}VsStock`);
  const ratio = Number.isFinite(paired) ? paired : ours / stock;
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
