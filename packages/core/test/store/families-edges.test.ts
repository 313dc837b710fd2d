import { expect } from 'chai';
import { context, diag } from '@opentelemetry/api';
import { captureDiag } from '@tuist-telemetry/testing';
import { catalog, logger, MetricStore, RateLimitedLogger, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { LABEL_OVERFLOW_METRIC } from '../../src/catalog/labels.js';
import { NATIVE_DEFAULTS } from '../../src/store/native-histogram.js';
import { storeTextExposition } from '../../src/prometheus/serialize.js';
import { ClusterView } from '../../src/cluster/view.js';
import { SnapshotEncoder, WorkerSnapshots } from '../../src/cluster/protocol.js';
import {
  contextManagerOf,
  newStore as catalogStore,
  sampledContext,
  STORE_OPTIONS,
  valueIn,
} from '../helpers/index.js';

/**
 * A metric family's edges, in-process (issue 26): the warnings of dropped values, the all-`__overflow__` series under
 * both bounds and after `clear()`, `clear(all)` of an unlabelled series, `remove()` without labels, and what a
 * histogram record keeps besides its buckets (native buckets, an exemplar inside a sampled span).
 */

const defs: MetricDefinition[] = [
  catalog.find((d) => d.name === LABEL_OVERFLOW_METRIC)!,
  { name: 'fx_total', type: 'counter', family: 'test', description: 'a counter', labels: ['k', 'm'] },
  { name: 'fx_level', type: 'gauge', family: 'test', description: 'an unlabelled gauge', labels: [] },
  { name: 'fx_state', type: 'gauge', family: 'test', description: 'a gauge', labels: ['k'] },
  { name: 'fx_seconds', type: 'histogram', family: 'test', description: 'a histogram', labels: [], buckets: [1] },
  {
    name: 'fx_opt',
    type: 'gauge',
    family: 'test',
    description: 'optional label',
    labels: ['k'],
    optionalLabels: ['o'],
  },
  { name: 'fx_h', type: 'histogram', family: 'test', description: 'labelled', labels: ['k'], buckets: [1] },
];

function newStore(options: { maxLabelValues?: number; maxSeriesPerMetric?: number; native?: boolean } = {}) {
  return new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues: options.maxLabelValues ?? 100,
    maxSeriesPerMetric: options.maxSeriesPerMetric ?? 100,
    ...(options.native ? { nativeHistograms: NATIVE_DEFAULTS } : {}),
    warn: new RateLimitedLogger(logger('test')),
  });
}

/** The sample lines of `name` in the store's text body. */
async function linesOf(store: MetricStore, name: string): Promise<string[]> {
  const body = (await storeTextExposition(store)).toString();
  return body.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
}

describe('core: metric family edges (issue 26)', () => {
  let logged: ReturnType<typeof captureDiag>;
  beforeEach(() => {
    logged = captureDiag(diag);
  });
  afterEach(() => {
    logged.restore();
    context.disable();
  });

  it('a value that is not a finite number >= 0 (a gauge: not finite) is dropped with a warning that says what is taken', async () => {
    const s = newStore();
    s.counter('fx_total').add(-1, { k: 'a', m: 'b' });
    s.gauge('fx_level').set(Number.NaN);
    const h = s.histogram('fx_seconds');
    for (const v of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) h.record(v);
    expect(
      logged.matching(/fx_total: dropped an increment of .* \(counters take finite numbers >= 0\)/),
    ).to.have.length(1);
    expect(logged.matching(/fx_level: dropped a value of .* \(gauges take finite numbers\)/)).to.have.length(1);
    expect(
      logged.matching(/fx_seconds: dropped a value of .* \(histograms here take finite numbers >= 0\)/),
    ).to.have.length(1);
    expect(await linesOf(s, 'fx_seconds_count')).to.deep.equal(['fx_seconds_count 0']);
    expect(await linesOf(s, 'fx_total')).to.deep.equal([]);
  });

  it('past the series bound, label sets go to the all-__overflow__ series the label bounds made: one series, warned', async () => {
    const s = newStore({ maxLabelValues: 2, maxSeriesPerMetric: 3 });
    const c = s.counter('fx_total');
    c.add(1, { k: 'a', m: 'x' });
    c.add(1, { k: 'b', m: 'y' });
    c.add(1, { k: 'c', m: 'z' }); // both labels past their bound: the all-__overflow__ series (the third)
    c.add(1, { k: 'a', m: 'y' }); // a new label set past the series bound
    expect(await linesOf(s, 'fx_total')).to.deep.equal([
      'fx_total{k="a",m="x"} 1',
      'fx_total{k="b",m="y"} 1',
      'fx_total{k="__overflow__",m="__overflow__"} 2',
    ]);
    expect(
      logged.matching(
        /fx_total: reached 3 series \(TUIST_TELEMETRY_MAX_SERIES_PER_METRIC\); recordings of further label sets go to the series whose labels are all "__overflow__"/,
      ),
    ).to.have.length(1);
  });

  it('after clear(), a label set past the series bound makes the all-__overflow__ series again', async () => {
    const s = newStore({ maxSeriesPerMetric: 2 });
    const c = s.counter('fx_total');
    for (const k of ['a', 'b', 'c']) c.add(1, { k, m: k });
    expect(await linesOf(s, 'fx_total')).to.include('fx_total{k="__overflow__",m="__overflow__"} 1');
    c.clear();
    for (const k of ['d', 'e', 'f']) c.add(1, { k, m: k });
    expect(await linesOf(s, 'fx_total')).to.deep.equal([
      'fx_total{k="d",m="d"} 1',
      'fx_total{k="e",m="e"} 1',
      'fx_total{k="__overflow__",m="__overflow__"} 1',
    ]);
    // The overflow self-metric (bounded by nothing) clears as well.
    const overflow = s.families.find((f) => f.def.name === LABEL_OVERFLOW_METRIC)!;
    expect(() => overflow.clear()).to.not.throw();
    expect(overflow.series.size).to.equal(0);
  });

  it('clear() keeps an unlabelled series at its value; clear(true) removes it', async () => {
    const s = newStore();
    const g = s.gauge('fx_level');
    g.set(5);
    g.clear();
    expect(await linesOf(s, 'fx_level')).to.deep.equal(['fx_level 5']);
    g.clear(true);
    expect(await linesOf(s, 'fx_level')).to.deep.equal([]);
    // A labelled family's clear(true) is its clear().
    s.gauge('fx_state').set(1, { k: 'a' });
    s.gauge('fx_state').clear(true);
    expect(await linesOf(s, 'fx_state')).to.deep.equal([]);
  });

  it('remove() without labels forgets the series recorded without labels, quietly', async () => {
    const s = newStore();
    const g = s.gauge('fx_state');
    g.set(1);
    g.set(2, { k: 'a' });
    expect(await linesOf(s, 'fx_state')).to.deep.equal(['fx_state{k="unknown"} 1', 'fx_state{k="a"} 2']);
    const before = logged.lines.length; // the missing label, warned at set()
    g.remove(undefined);
    expect(await linesOf(s, 'fx_state')).to.deep.equal(['fx_state{k="a"} 2']);
    expect(logged.lines.slice(before)).to.deep.equal([]);
  });

  it('a histogram record also fills the native buckets when they are on, and keeps an exemplar inside a sampled span', () => {
    const s = newStore({ native: true });
    const active = sampledContext();
    context.setGlobalContextManager(contextManagerOf(() => active));
    s.histogram('fx_seconds').record(3);
    const series = [...s.histogram('fx_seconds').series][0]!;
    expect(series.native, 'native buckets').to.not.equal(undefined);
    expect(series.native!.populated, 'native buckets populated').to.equal(1);
    expect(series.exemplars?.map((e) => e?.value)).to.deep.equal([undefined, 3]);
  });

  it("an unlabelled series carries no label values: a cluster worker's snapshot of it merges (and what follows it)", () => {
    const worker = catalogStore();
    const run = { name: 'build', is_ci: 'false', status: '0' };
    worker.counter('tuist_cache_uploads_total').add(2);
    worker.counter('tuist_runs_total').add(3, run);
    const snaps = new WorkerSnapshots();
    const view = new ClusterView(catalog, STORE_OPTIONS);
    expect(snaps.apply(new SnapshotEncoder(worker, false).encode('snapshot', 1, snaps.known), view.familyOf)).to.equal(
      undefined,
    );
    const merged = view.build(catalogStore(), [{ id: '1', snapshots: snaps }]);
    expect(valueIn(merged, 'tuist_cache_uploads_total', {})).to.equal(2);
    expect(valueIn(merged, 'tuist_runs_total', run)).to.equal(3);
  });

  it('remove() finds a series whose optional label was left out, and a series of the overflow self-metric', async () => {
    const s = newStore({ maxSeriesPerMetric: 2 });
    const g = s.gauge('fx_opt');
    g.set(1, { k: 'a' });
    g.set(2, { k: 'b', o: 'x' });
    expect(await linesOf(s, 'fx_opt')).to.have.length(2);
    g.remove({ k: 'a' });
    g.remove({ k: 'b', o: 'x' });
    expect(await linesOf(s, 'fx_opt')).to.deep.equal([]);
    const overflow = s.families.find((f) => f.def.name === LABEL_OVERFLOW_METRIC)!;
    for (const k of ['a', 'b', 'c']) s.counter('fx_total').add(1, { k, m: k }); // the third: past the series bound
    expect(overflow.series.size).to.equal(1);
    const before = logged.lines.length;
    overflow.remove({ metric: 'fx_total', label: '__series__' });
    expect(overflow.series.size).to.equal(0);
    expect(logged.lines.slice(before)).to.deep.equal([]);
  });

  it('a gauge or histogram record whose labels throw when read is dropped with a warning, never thrown', async () => {
    const s = newStore();
    const hostile = {
      get k(): string {
        throw new Error('getter');
      },
    };
    expect(() => s.gauge('fx_state').set(1, hostile)).to.not.throw();
    expect(() => s.histogram('fx_h').record(1, hostile)).to.not.throw();
    for (const name of ['fx_state', 'fx_h'])
      expect(logged.matching(new RegExp(`${name}: a recording was dropped, reading its labels threw`))).to.have.length(
        1,
      );
    expect(await linesOf(s, 'fx_h_count')).to.deep.equal([]);
  });
});
