import { diag } from '@opentelemetry/api';
import { captureDiag } from '@tuist-telemetry/testing';
import { expect } from 'chai';
import {
  catalog,
  HIGH_CARDINALITY_LABELS,
  logger,
  MetricStore,
  RateLimitedLogger,
} from '@tuist-telemetry/core/internal';
import { ClusterView } from '../../src/cluster/view.js';
import { SnapshotEncoder, WorkerSnapshots, type SeriesDef, type Snapshot } from '../../src/cluster/protocol.js';

/**
 * The cluster primary's side of the snapshot protocol at its edges: each way a snapshot can be malformed is named
 * in the reason it is rejected with (and nothing of it is taken), what a valid snapshot ends is handed to `retire`
 * (and what it does not end is not), and the merged view's rules where the other suites only try the common case:
 * `once` gauges (the highest value), the view's wider bounds, workers with no snapshot yet, families the view does
 * not serve. cluster-protocol.test.ts and cluster-merge.test.ts hold the ordinary cases.
 */

type Opts = ConstructorParameters<typeof MetricStore>[1];
const opts = (extra: Partial<Opts> = {}): Opts => ({
  naming: 'docs',
  highCardinality: new Set(HIGH_CARDINALITY_LABELS),
  enabledHighCardinality: new Set(),
  maxLabelValues: 1000,
  warn: new RateLimitedLogger(logger('test')),
  ...extra,
});
const run = { name: 'build', is_ci: 'false', status: '0' };

/** The value (counter/gauge) or count (histogram) of the series with these labels, undefined when absent. */
function valueIn(store: MetricStore, name: string, labels: Record<string, string>): number | undefined {
  const f = store.families.find((x) => x.def.name === name)!;
  for (const s of f.series)
    if (f.labelNames.every((l, i) => (labels[l] ?? '') === s.labelValues[i])) return 'value' in s ? s.value : s.count;
  return undefined;
}

const view0 = new ClusterView(catalog, opts());
const RUN_NAMES = [...view0.familyOf('tuist_runs_total')!.labelNames];
const RUN_VALUES = RUN_NAMES.map((n) => (run as Record<string, string>)[n] ?? '');

/** A snapshot made by hand: one tuist_runs_total series (id 0, value 4) unless told otherwise. */
function snapshot(change: Partial<Snapshot> = {}): Snapshot {
  return {
    tuistTelemetry: 'tuist-telemetry/cluster/1',
    type: 'snapshot',
    req: 1,
    next: 1,
    families: [['tuist_runs_total', RUN_NAMES, 1]],
    defs: [0, 0, ...RUN_VALUES],
    data: Float64Array.of(0, 4),
    ...change,
  };
}

describe('core: cluster snapshot edges (rejection reasons, retirement, merge rules)', () => {
  it('names what is wrong with a malformed snapshot, takes nothing of it and asks for every description again', () => {
    const view = new ClusterView(catalog, opts());
    const good = snapshot();
    const family = good.families[0]!;
    const names = RUN_NAMES;
    const labels = RUN_VALUES;
    const snaps = new WorkerSnapshots();
    expect(snaps.apply(good, view.familyOf)).to.equal(undefined);
    expect(snaps.known).to.equal(1);
    const last = snaps.last;
    const describe = (width: number): Partial<Snapshot> => ({
      families: [[family[0], names, width]],
      defs: [0, 0, ...labels],
    });
    const cases: [Partial<Snapshot>, string][] = [
      [{ next: -1 }, 'bad "next"'],
      [{ next: 1.5 }, 'bad "next"'],
      [{ families: undefined as never }, 'families or defs missing'],
      [{ defs: 'x' as never }, 'families or defs missing'],
      [{ families: ['tuist_runs_total' as never] }, 'bad family entry'],
      [{ families: [[family[0], names] as never] }, 'bad family entry'],
      [{ families: [[7, names, 1] as never] }, 'bad family entry'],
      [{ families: [[family[0], 'name' as never, 1]] }, 'bad family entry'],
      [{ families: [[family[0], [1] as never, 1]] }, 'bad family entry'],
      [{ families: [[family[0], names, 0]] }, 'bad family width'],
      [{ families: [[family[0], names, 1.5]] }, 'bad family width'],
      [{ defs: [-1, 0, ...labels] }, 'bad series description'],
      [{ defs: [0.5, 0, ...labels] }, 'bad series description'],
      [{ defs: [0, 3, ...labels] }, 'bad series description'],
      [{ defs: [0, 0, 1, ...labels.slice(1)] }, 'bad label value'],
      [{ defs: [0, 0, ...labels.slice(1)] }, 'bad label value'],
      [{ data: 42 as never }, 'bad data'],
      [{ data: Buffer.from([1, 2, 3]).toString('base64') }, 'bad data'],
      [{ data: Float64Array.of(9, 1) }, 'series 9 was never described'],
      [{ data: Float64Array.of(0, 1, 0, 2) }, 'series 0 appears twice'],
      [{ ...describe(3), data: Float64Array.of(0, 1, 2) }, 'data ends inside a series'],
      [{ data: Float64Array.of(0) }, 'data ends inside a series'],
      [{ data: Float64Array.of(0, -1) }, 'bad value -1'],
      [{ data: Float64Array.of(0, Number.POSITIVE_INFINITY) }, 'bad value Infinity'],
      [{ data: Float64Array.of(0, Number.NaN) }, 'bad value NaN'],
    ];
    for (const [change, reason] of cases) {
      snaps.known = 1;
      expect(snaps.apply({ ...good, ...change }, view.familyOf), JSON.stringify(change)).to.equal(reason);
      expect(snaps.known, reason).to.equal(0);
      expect(snaps.last, reason).to.equal(last);
    }
    expect(Array.from(snaps.last!)).to.deep.equal([0, 4]);
    // `next` 0 is valid (a worker with no series yet).
    expect(
      snaps.apply({ ...good, next: 0, defs: [], families: [], data: new Float64Array(0) }, view.familyOf),
    ).to.equal(undefined);
  });

  it('a negative value is fine for a gauge and wrong for a series of a family the primary does not serve', () => {
    const view = new ClusterView(catalog, opts());
    const snaps = new WorkerSnapshots();
    const gauge: Snapshot = {
      tuistTelemetry: 'tuist-telemetry/cluster/1',
      type: 'snapshot',
      req: 1,
      next: 1,
      families: [['tuist_repo_pool_size', [], 1]],
      defs: [0, 0],
      data: Float64Array.of(0, -3),
    };
    expect(snaps.apply(gauge, view.familyOf)).to.equal(undefined);
    const unknown = { ...gauge, families: [['not_served_here', [], 1]] as Snapshot['families'] };
    expect(new WorkerSnapshots().apply(unknown, view.familyOf)).to.equal('bad value -3');
    // A served name with another width (a histogram with other buckets): skipped, not fatal, never merged.
    const odd = { ...gauge, families: [['tuist_runs_total', ['name', 'is_ci', 'status'], 3]] as Snapshot['families'] };
    const oddSnaps = new WorkerSnapshots();
    expect(
      oddSnaps.apply({ ...odd, defs: [0, 0, 'build', 'false', '0'], data: Float64Array.of(0, 5, 6, 7) }, view.familyOf),
    ).to.equal(undefined);
    expect(oddSnaps.defs.get(0)!.family).to.equal(undefined);
    const merged = view.build(new MetricStore(catalog, opts()), [{ id: '1', snapshots: oddSnaps }]);
    expect(valueIn(merged, 'tuist_runs_total', run)).to.equal(undefined);
  });

  it('retire gets the last values of a counter that ended or went back, never a gauge, a kept series or an unserved one', () => {
    const view = new ClusterView(catalog, opts());
    const snaps = new WorkerSnapshots();
    const retired: [string, number[]][] = [];
    const retire = (def: SeriesDef, data: Float64Array, p: number): void =>
      void retired.push([JSON.stringify(def.labels), Array.from(data.subarray(p + 1, p + 1 + def.width))]);
    const apply = (change: Partial<Snapshot>, withRetire = true) => {
      retired.length = 0;
      expect(snaps.apply(snapshot(change), view.familyOf, withRetire ? retire : undefined)).to.equal(undefined);
      return retired;
    };
    const values = (...v: number[]): Partial<Snapshot> => ({ families: [], defs: [], data: Float64Array.from(v) });
    const gone = { ...run, name: 'gone' };
    const families: Snapshot['families'] = [
      ['tuist_runs_total', RUN_NAMES, 1],
      ['tuist_repo_pool_size', [], 1],
      ['not_served_here', [], 1],
    ];
    const all = [
      0,
      0,
      ...RUN_VALUES,
      1,
      0,
      ...RUN_NAMES.map((n) => (gone as Record<string, string>)[n] ?? ''),
      2,
      1,
      3,
      2,
    ];
    expect(apply({ next: 4, families, defs: all, data: Float64Array.of(0, 4, 1, 1, 2, 10, 3, 5) })).to.deep.equal([]);
    expect(apply(values(0, 5, 1, 1, 2, 2, 3, 6)), 'grown or equal; a gauge lower').to.deep.equal([]);
    expect(apply(values(0, 5, 1, 0, 2, 2, 3, 6), false), 'no retire function').to.deep.equal([]);
    expect(apply(values(0, 5, 1, 0, 2, 2, 3, 6))).to.deep.equal([]);
    expect(apply(values(0, 5, 2, 1, 3, 1)), 'gone; an unserved series went back').to.deep.equal([
      [JSON.stringify(gone), [0]],
    ]);
    expect(snaps.defs.size).to.equal(3);
    // The same series described again keeps its description object (the view caches its target by it).
    const kept = snaps.defs.get(0)!;
    expect(apply({ data: Float64Array.of(0, 5, 2, 1, 3, 1) })).to.deep.equal([]);
    expect(snaps.defs.get(0)).to.equal(kept);
    expect(apply(values(0, 2, 2, 1, 3, 1)), 'went back').to.deep.equal([[JSON.stringify(run), [5]]]);
    const other = { name: 'other', is_ci: 'false', status: '0' };
    const otherValues = RUN_NAMES.map((n) => (other as Record<string, string>)[n] ?? '');
    expect(
      apply({ defs: [0, 0, ...otherValues], data: Float64Array.of(0, 9, 2, 1, 3, 1) }),
      'relabelled',
    ).to.deep.equal([[JSON.stringify(run), [2]]]);
    expect(snaps.defs.get(0)!.labels).to.deep.equal(other);
    const fewer: Snapshot['families'] = [['tuist_runs_total', RUN_NAMES.slice(0, -1), 1]];
    const data = Float64Array.of(0, 9, 2, 1, 3, 1);
    expect(apply({ families: fewer, defs: [0, 0, ...otherValues.slice(0, -1)], data }), 'fewer labels').to.have.length(
      1,
    );
    expect(apply({ defs: [0, 0, ...otherValues], data }), 'more labels').to.have.length(1);
    const hist = view.familyOf('tuist_runs_duration_milliseconds')!;
    const width = (hist as unknown as { buckets: unknown[] }).buckets.length + 3;
    const hdata = Float64Array.from([0, ...Array<number>(width).fill(1), 2, 1, 3, 1]);
    expect(
      apply({
        families: [['tuist_runs_duration_milliseconds', hist.labelNames, width]],
        defs: [0, 0, ...otherValues],
        data: hdata,
      }),
      'another family, same labels',
    ).to.have.length(1);
    expect(apply({ families: [['tuist_repo_pool_size', [], 1]], defs: [0, 0], data }), 'now a gauge').to.have.length(1);
    expect(apply({ families: [['not_served_here', [], 1]], defs: [0, 0], data }), 'was a gauge').to.deep.equal([]);
    expect(apply({ families: [['tuist_repo_pool_size', [], 1]], defs: [0, 0], data }), 'was unserved').to.deep.equal(
      [],
    );
  });

  it('an id described as a series of another family with the same shape (width, labels) ends the old one', () => {
    const view = new ClusterView(catalog, opts());
    const snaps = new WorkerSnapshots();
    const retired: number[][] = [];
    const retire = (def: SeriesDef, data: Float64Array, p: number): void =>
      void retired.push(Array.from(data.subarray(p + 1, p + 1 + def.width)));
    const one = (name: string, v: number) =>
      snapshot({ families: [[name, [], 1]], defs: [0, 0], data: Float64Array.of(0, v) });
    expect(snaps.apply(one('tuist_cache_uploads_total', 3), view.familyOf, retire)).to.equal(undefined);
    expect(snaps.apply(one('tuist_cache_downloads_total', 5), view.familyOf, retire)).to.equal(undefined);
    expect(retired).to.deep.equal([[3]]);
    expect(snaps.defs.get(0)!.family).to.equal(view.familyOf('tuist_cache_downloads_total'));
  });

  it('a snapshot names each family once; an unserved series described with another width takes the new width', () => {
    const worker = new MetricStore(catalog, opts());
    for (const name of ['a', 'b', 'c']) worker.counter('tuist_runs_total').add(1, { ...run, name });
    const first = new SnapshotEncoder(worker, true).encode('snapshot', 1, 0);
    const names = first.families.map(([name]) => name);
    expect(names.filter((n) => n === 'tuist_runs_total')).to.have.length(1);
    expect(new Set(names).size).to.equal(names.length);
    const view = new ClusterView(catalog, opts());
    const snaps = new WorkerSnapshots();
    const unserved = (width: number) =>
      snapshot({
        families: [['not_served_here', [], width]],
        defs: [0, 0],
        data: Float64Array.from([0, ...Array<number>(width).fill(1)]),
      });
    expect(snaps.apply(unserved(1), view.familyOf)).to.equal(undefined);
    expect(snaps.apply(unserved(2), view.familyOf)).to.equal(undefined);
    expect(snaps.defs.get(0)!.width).to.equal(2);
    expect(snaps.apply({ ...unserved(2), families: [], defs: [] }, view.familyOf)).to.equal(undefined);
  });

  it('the primary\'s own per-process gauges carry worker="primary"', () => {
    const view = new ClusterView(catalog, opts());
    const own = new MetricStore(catalog, opts());
    own.gauge('process_open_fds').set(12);
    expect(valueIn(view.build(own, []), 'process_open_fds', { worker: 'primary' })).to.equal(12);
  });

  it('once gauges: the highest value of the primary and the workers, even when all are negative', () => {
    const view = new ClusterView(catalog, opts());
    const worker = (v: number) => {
      const s = new MetricStore(catalog, opts());
      s.gauge('tuist_projects_total').set(v);
      const snaps = new WorkerSnapshots();
      expect(snaps.apply(new SnapshotEncoder(s, true).encode('snapshot', 1, 0), view.familyOf)).to.equal(undefined);
      return snaps;
    };
    const own = new MetricStore(catalog, opts());
    own.gauge('tuist_projects_total').set(3);
    const build = (ownValue: number, ...values: number[]) => {
      own.gauge('tuist_projects_total').set(ownValue);
      return valueIn(
        view.build(
          own,
          values.map((v, i) => ({ id: String(i + 1), snapshots: worker(v) })),
        ),
        'tuist_projects_total',
        {},
      );
    };
    expect(build(3, 7, 5)).to.equal(7);
    expect(build(3, 5, 7)).to.equal(7);
    expect(build(2, 1, 1)).to.equal(2);
    expect(build(-4, -2, -5)).to.equal(-2);
    // Lower than in the previous build: each build starts afresh.
    expect(build(1, 1)).to.equal(1);
  });

  it('workers with no snapshot yet, a view without some families, and the view holding more than one process may', () => {
    // The workers' stores reach their series bound of 2: that warning is expected, and captured.
    const logged = captureDiag(diag);
    try {
      const runtimeFree = catalog.filter((d) => !d.name.startsWith('process_') && !d.name.startsWith('nodejs_'));
      const view = new ClusterView(runtimeFree, opts({ maxLabelValues: 2, maxSeriesPerMetric: 2 }));
      const own = new MetricStore(catalog, opts());
      own.gauge('process_open_fds').set(12);
      own.counter('tuist_runs_total').add(1, run);
      const workers = [1, 2, 3].map((n) => {
        const s = new MetricStore(catalog, opts({ maxLabelValues: 2, maxSeriesPerMetric: 2 }));
        s.counter('tuist_runs_total').add(n, { ...run, name: `w${n}a` });
        s.counter('tuist_runs_total').add(n, { ...run, name: `w${n}b` });
        const snaps = new WorkerSnapshots();
        expect(snaps.apply(new SnapshotEncoder(s, true).encode('snapshot', 1, 0), view.familyOf)).to.equal(undefined);
        return { id: String(n), snapshots: snaps };
      });
      const waiting = { id: '9', snapshots: new WorkerSnapshots() };
      view.retire(new WorkerSnapshots());
      expect(view.hasRetired).to.equal(false);
      const merged = view.build(own, [waiting, ...workers]);
      expect(merged.families.some((f) => f.def.name === 'process_open_fds')).to.equal(false);
      const names = [...merged.families.find((f) => f.def.name === 'tuist_runs_total')!.series].map(
        (s) => s.labelValues[0],
      );
      expect(names.sort()).to.deep.equal(['build', 'w1a', 'w1b', 'w2a', 'w2b', 'w3a', 'w3b']);
      expect(valueIn(merged, 'tuist_runs_total', { ...run, name: 'w3b' })).to.equal(3);
      // A gauge a worker leaves behind is not kept (only counters and histograms are).
      const withGauge = new MetricStore(catalog, opts());
      withGauge.gauge('tuist_projects_total').set(7);
      withGauge.counter('tuist_runs_total').add(2, { ...run, name: 'w3b' });
      const gaugeSnaps = new WorkerSnapshots();
      expect(gaugeSnaps.apply(new SnapshotEncoder(withGauge, true).encode('snapshot', 1, 0), view.familyOf)).to.equal(
        undefined,
      );
      view.retire(gaugeSnaps);
      const noProjects = new MetricStore(
        catalog.filter((d) => d.name !== 'tuist_projects_total'),
        opts(),
      );
      expect(valueIn(view.build(noProjects, []), 'tuist_projects_total', {})).to.equal(0);
      expect(valueIn(view.build(own, []), 'tuist_runs_total', { ...run, name: 'w3b' })).to.equal(2);
      view.retire(workers[2]!.snapshots);
      expect(view.hasRetired).to.equal(true);
      expect(valueIn(view.build(own, workers.slice(0, 2)), 'tuist_runs_total', { ...run, name: 'w3b' })).to.equal(5);
      expect(logged.matching(/reached 2 series/)).to.not.deep.equal([]);
    } finally {
      logged.restore();
    }
  });

  it('an unlabelled gauge nobody reports stays at 0 in every build; a labelled one nobody reports is gone', () => {
    const view = new ClusterView(catalog, opts());
    const own = new MetricStore(catalog, opts());
    own.gauge('tuist_accounts_users_total').set(4);
    own.gauge('tuist_http_queue_in_use_connections').set(1, { url: 'u', size: '1', index: '0' });
    expect(valueIn(view.build(own, []), 'tuist_accounts_users_total', {})).to.equal(4);
    // A primary whose store has neither family (as when it runs no pool of its own).
    const empty = new MetricStore(
      catalog.filter(
        (d) => d.name !== 'tuist_accounts_users_total' && d.name !== 'tuist_http_queue_in_use_connections',
      ),
      opts(),
    );
    const merged = view.build(empty, []);
    expect(valueIn(merged, 'tuist_accounts_users_total', {})).to.equal(0);
    expect(valueIn(merged, 'tuist_http_queue_in_use_connections', { url: 'u', size: '1', index: '0' })).to.equal(
      undefined,
    );
  });
});
