// The cluster view's arithmetic, pinned value by value: summed histograms, series that appear late, snapshots of an
// odd shape, and counters that must never go back whatever a well-formed snapshot says.
import { expect } from 'chai';
import {
  catalog,
  HIGH_CARDINALITY_LABELS,
  logger,
  MetricStore,
  RateLimitedLogger,
} from '@tuist-telemetry/core/internal';
import { ClusterView } from '../src/cluster/view.js';
import { SnapshotEncoder, WorkerSnapshots, type Snapshot } from '../src/cluster/protocol.js';
import type { HistogramSeries, StoreOptions } from '../src/store/store.js';

const opts: StoreOptions = {
  naming: 'docs',
  highCardinality: new Set(HIGH_CARDINALITY_LABELS),
  enabledHighCardinality: new Set(),
  maxLabelValues: 1000,
  warn: new RateLimitedLogger(logger('test')),
};
const newStore = () => new MetricStore(catalog, opts);
const run = { name: 'build', is_ci: 'false', status: '0' };

function seriesOf(store: MetricStore, name: string, labels: Record<string, string>) {
  const f = store.families.find((x) => x.def.name === name)!;
  return [...f.series].find((s) => f.labelNames.every((l, i) => (labels[l] ?? '') === s.labelValues[i]));
}
function valueIn(store: MetricStore, name: string, labels: Record<string, string>): number | undefined {
  const s = seriesOf(store, name, labels);
  return s === undefined ? undefined : 'value' in s ? (s.value as number) : (s as HistogramSeries).count;
}

/** One worker as the primary sees it: its store, its encoder and what the primary took of its snapshots. */
function worker(advanced = true) {
  const store = newStore();
  const enc = new SnapshotEncoder(store, advanced);
  const snaps = new WorkerSnapshots();
  return { store, enc, snaps };
}
type W = ReturnType<typeof worker>;
const collect = (view: ClusterView, ...ws: W[]) => {
  for (const w of ws)
    expect(w.snaps.apply(w.enc.encode('snapshot', 1, w.snaps.known), view.familyOf, view.retireSeries)).to.equal(
      undefined,
    );
};
const live = (...ws: W[]) => ws.map((w, i) => ({ id: String(i + 1), snapshots: w.snaps }));

describe('core: cluster merge (values of the served view)', () => {
  it('sums histograms over the primary, live and exited workers: every bucket up to +Inf, _sum and _count', () => {
    const view = new ClusterView(catalog, opts);
    const own = newStore();
    const [a, b, gone] = [worker(), worker(false), worker()];
    const h = (s: MetricStore) => s.histogram('tuist_runs_duration_milliseconds');
    // 2e6, 3e6 and 4e6 ms are past the last bound (1638400): they land in +Inf.
    h(a.store).record(5, run);
    h(a.store).record(2_000_000, run);
    h(b.store).record(7, run);
    h(b.store).record(3_000_000, run);
    h(own).record(150, run);
    h(gone.store).record(4_000_000, run);
    h(gone.store).record(250, run);
    collect(view, a, b, gone);
    view.retire(gone.snaps);
    const merged = seriesOf(view.build(own, live(a, b)), 'tuist_runs_duration_milliseconds', run) as HistogramSeries;
    const last = merged.counts.length - 1;
    expect(merged.count).to.equal(7);
    expect(merged.sum).to.equal(5 + 2_000_000 + 7 + 3_000_000 + 150 + 4_000_000 + 250);
    expect(merged.counts[last], '+Inf bucket').to.equal(3);
    expect(merged.counts[0], '<= 100').to.equal(2);
    expect(merged.counts[1], '<= 200').to.equal(1);
    expect(merged.counts[2], '<= 400').to.equal(1);
    expect([...merged.counts].reduce((x, y) => x + y, 0)).to.equal(merged.count);
    // A second build gives the same (the view is rebuilt, not added to).
    const again = seriesOf(view.build(own, live(a, b)), 'tuist_runs_duration_milliseconds', run) as HistogramSeries;
    expect([again.count, again.sum, again.counts[last]]).to.deep.equal([7, merged.sum, 3]);
  });

  it("serves a worker's (and the primary's) series first seen in a later scrape, in known and in new families", () => {
    const view = new ClusterView(catalog, opts);
    const own = newStore();
    const a = worker();
    a.store.counter('tuist_runs_total').add(1, run);
    collect(view, a);
    expect(valueIn(view.build(own, live(a)), 'tuist_runs_total', run)).to.equal(1);
    a.store.counter('tuist_runs_total').add(2, { ...run, name: 'later' });
    a.store.counter('tuist_cache_uploads_total').add(3, {});
    a.store.histogram('tuist_runs_duration_milliseconds').record(9, { ...run, name: 'later' });
    own.counter('tuist_runs_total').add(4, { ...run, name: 'own-later' });
    collect(view, a);
    const m = view.build(own, live(a));
    expect(valueIn(m, 'tuist_runs_total', run)).to.equal(1);
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'later' })).to.equal(2);
    expect(valueIn(m, 'tuist_cache_uploads_total', {})).to.equal(3);
    expect(valueIn(m, 'tuist_runs_duration_milliseconds', { ...run, name: 'later' })).to.equal(1);
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'own-later' })).to.equal(4);
  });

  it("skips the series of a family whose width does not match the primary's, and takes the rest of the snapshot", () => {
    const view = new ClusterView(catalog, opts);
    const a = worker();
    a.store.counter('tuist_runs_total').add(6, run);
    a.store.histogram('tuist_runs_duration_milliseconds').record(5, run);
    const snap = a.enc.encode('snapshot', 1, 0);
    const data = snap.data as Float64Array;
    // The worker's histogram has 3 buckets (width 3 + 3 = 6) where the primary's has 16: rewrite its series so.
    const hi = snap.families.findIndex((f) => f[0] === 'tuist_runs_duration_milliseconds');
    const families = snap.families.map((f, i) => (i === hi ? ([f[0], f[1], 6] as const) : f));
    let histId = -1;
    for (let i = 0; i < snap.defs.length; i += 2 + snap.families[snap.defs[i + 1] as number]![1].length) {
      if (snap.defs[i + 1] === hi) histId = snap.defs[i] as number;
    }
    const histWidth = snap.families[hi]![2];
    expect(histWidth).to.equal(18);
    const out: number[] = [];
    for (let p = 0; p < data.length; ) {
      const id = data[p]!;
      const width = id === histId ? histWidth : 1;
      if (id === histId) out.push(id, 1, 0, 0, 0, 5, 1);
      else out.push(...data.subarray(p, p + 1 + width));
      p += 1 + width;
    }
    const odd: Snapshot = { ...snap, families, data: Float64Array.from(out) };
    expect(a.snaps.apply(odd, view.familyOf, view.retireSeries)).to.equal(undefined);
    const m = view.build(newStore(), live(a));
    expect(valueIn(m, 'tuist_runs_total', run)).to.equal(6);
    expect(valueIn(m, 'tuist_runs_duration_milliseconds', run), 'not served in a shape it does not have').to.equal(
      undefined,
    );
  });

  it('a well-formed snapshot that reuses an id for another series, or sends a lower count, never moves a served counter back', () => {
    const view = new ClusterView(catalog, opts);
    const a = worker();
    a.store.counter('tuist_runs_total').add(100, { ...run, name: 'a' });
    collect(view, a);
    expect(valueIn(view.build(newStore(), live(a)), 'tuist_runs_total', { ...run, name: 'a' })).to.equal(100);
    const fam = ['tuist_runs_total', ['name', 'is_ci', 'status'], 1] as const;
    const snap = (defs: (string | number)[], data: number[]): Snapshot => ({
      tuistTelemetry: 'tuist-telemetry/cluster/1',
      type: 'snapshot',
      req: 2,
      next: 1,
      families: [fam],
      defs,
      data: Float64Array.from(data),
    });
    // Id 0 now names the series name="b" (as a telemetry restarted without telling would send).
    expect(a.snaps.apply(snap([0, 0, 'b', 'false', '0'], [0, 50]), view.familyOf, view.retireSeries)).to.equal(
      undefined,
    );
    let m = view.build(newStore(), live(a));
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'a' })).to.equal(100);
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'b' })).to.equal(50);
    // The same series, a lower value: a reset. What was served stays, what comes next adds to it.
    expect(a.snaps.apply(snap([], [0, 30]), view.familyOf, view.retireSeries)).to.equal(undefined);
    m = view.build(newStore(), live(a));
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'b' })).to.equal(80);
    // The series is gone from the worker: its count stays.
    expect(a.snaps.apply(snap([], []), view.familyOf, view.retireSeries)).to.equal(undefined);
    m = view.build(newStore(), live(a));
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'a' })).to.equal(100);
    expect(valueIn(m, 'tuist_runs_total', { ...run, name: 'b' })).to.equal(80);
    // A description repeated for the same series (a lost reply) changes nothing.
    expect(a.snaps.apply(snap([0, 0, 'b', 'false', '0'], [0, 5]), view.familyOf, view.retireSeries)).to.equal(
      undefined,
    );
    expect(a.snaps.apply(snap([0, 0, 'b', 'false', '0'], [0, 7]), view.familyOf, view.retireSeries)).to.equal(
      undefined,
    );
    expect(valueIn(view.build(newStore(), live(a)), 'tuist_runs_total', { ...run, name: 'b' })).to.equal(87);
  });

  it('a histogram whose count goes back is kept too; gauges simply take the new value', () => {
    const view = new ClusterView(catalog, opts);
    const a = worker();
    a.store.histogram('tuist_runs_duration_milliseconds').record(300, run);
    a.store.histogram('tuist_runs_duration_milliseconds').record(300, run);
    a.store.gauge('tuist_repo_pool_size').set(10, { repo: 'main' });
    collect(view, a);
    // The worker's store starts over (same series objects, so the same ids): one recording, a smaller pool.
    const h = seriesOf(a.store, 'tuist_runs_duration_milliseconds', run) as HistogramSeries;
    h.counts.fill(0);
    h.sum = 0;
    h.count = 0;
    a.store.histogram('tuist_runs_duration_milliseconds').record(50, run);
    a.store.gauge('tuist_repo_pool_size').set(4, { repo: 'main' });
    collect(view, a);
    const m = view.build(newStore(), live(a));
    const merged = seriesOf(m, 'tuist_runs_duration_milliseconds', run) as HistogramSeries;
    expect([merged.count, merged.sum, merged.counts[0], merged.counts[2]]).to.deep.equal([3, 650, 1, 2]);
    expect(valueIn(m, 'tuist_repo_pool_size', { repo: 'main' })).to.equal(4);
  });
});
