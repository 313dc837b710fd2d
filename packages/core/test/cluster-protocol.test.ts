import { expect } from 'chai';
import {
  catalog,
  clusterAggregationOf,
  HIGH_CARDINALITY_LABELS,
  logger,
  MetricStore,
  RateLimitedLogger,
} from '@tuist-telemetry/core/internal';
import { ClusterView, PRIMARY_WORKER } from '../src/cluster/view.js';
import { SnapshotEncoder, WorkerSnapshots, type Snapshot } from '../src/cluster/protocol.js';
import type { StoreOptions } from '../src/store/store.js';

const opts: StoreOptions = {
  naming: 'docs',
  highCardinality: new Set(HIGH_CARDINALITY_LABELS),
  enabledHighCardinality: new Set(),
  maxLabelValues: 1000,
  warn: new RateLimitedLogger(logger('test')),
};
const newStore = () => new MetricStore(catalog, opts);
const run = { name: 'build', is_ci: 'false', status: '0' };

function valueIn(store: MetricStore, name: string, labels: Record<string, string>): number | undefined {
  const f = store.families.find((x) => x.def.name === name)!;
  for (const s of f.series) {
    if (f.labelNames.every((l, i) => (labels[l] ?? '') === s.labelValues[i])) return 'value' in s ? s.value : s.count;
  }
  return undefined;
}

describe('core: cluster snapshots (protocol and merge rules)', () => {
  it('every gauge of the catalog states its cluster rule; counters and histograms are summed', () => {
    for (const d of catalog) {
      if (d.type === 'gauge') expect(d.clusterAggregation, d.name).to.be.oneOf(['sum', 'once', 'perWorker']);
      else expect(d.clusterAggregation ?? 'sum', d.name).to.equal('sum');
    }
    const rule = (n: string) => clusterAggregationOf(catalog.find((d) => d.name === n)!);
    expect(rule('tuist_projects_total')).to.equal('once');
    expect(rule('tuist_accounts_users_total')).to.equal('once');
    expect(rule('tuist_repo_pool_ready_conn_count')).to.equal('sum');
    expect(rule('tuist_http_queue_in_use_connections')).to.equal('sum');
    expect(rule('process_resident_memory_bytes')).to.equal('perWorker');
    expect(rule('nodejs_eventloop_lag_p99_seconds')).to.equal('perWorker');
    // The cluster view adds a `worker` label to per-worker families: none may have one already.
    for (const d of catalog)
      if (clusterAggregationOf(d) === 'perWorker')
        expect([...d.labels, ...(d.optionalLabels ?? [])], d.name).to.not.include('worker');
  });

  for (const advanced of [false, true]) {
    it(`describes a series once, then sends values only (${advanced ? 'advanced' : 'JSON'} serialization)`, () => {
      const worker = newStore();
      const enc = new SnapshotEncoder(worker, advanced);
      const snaps = new WorkerSnapshots();
      const view = new ClusterView(catalog, opts);
      worker.counter('tuist_runs_total').add(2, run);
      worker.histogram('tuist_runs_duration_milliseconds').record(7, run);
      // What travels is what the channel carries: JSON text, or a structured clone.
      const travel = (s: Snapshot): Snapshot =>
        advanced ? structuredClone(s) : (JSON.parse(JSON.stringify(s)) as Snapshot);
      const first = travel(enc.encode('snapshot', 1, snaps.known));
      expect(typeof first.data).to.equal(advanced ? 'object' : 'string');
      expect(first.defs.length).to.be.greaterThan(0);
      expect(snaps.apply(first, view.familyOf)).to.equal(undefined);
      worker.counter('tuist_runs_total').add(3, run);
      const second = travel(enc.encode('snapshot', 2, snaps.known));
      expect(second.defs).to.deep.equal([]);
      expect(second.families).to.deep.equal([]);
      expect(snaps.apply(second, view.familyOf)).to.equal(undefined);
      const merged = view.build(newStore(), [{ id: '1', snapshots: snaps }]);
      expect(valueIn(merged, 'tuist_runs_total', run)).to.equal(5);
      expect(valueIn(merged, 'tuist_runs_duration_milliseconds', run)).to.equal(1);
    });
  }

  it('a lost reply leaves `known` where it was, so the next reply describes those series again', () => {
    const worker = newStore();
    const enc = new SnapshotEncoder(worker, false);
    const snaps = new WorkerSnapshots();
    const view = new ClusterView(catalog, opts);
    expect(snaps.apply(enc.encode('snapshot', 1, 0), view.familyOf)).to.equal(undefined);
    worker.counter('tuist_runs_total').add(1, { ...run, name: 'new' });
    enc.encode('snapshot', 2, snaps.known); // never arrives
    const third = enc.encode('snapshot', 3, snaps.known);
    expect(third.defs).to.include('new');
    expect(snaps.apply(third, view.familyOf)).to.equal(undefined);
    expect(
      valueIn(view.build(newStore(), [{ id: '1', snapshots: snaps }]), 'tuist_runs_total', { ...run, name: 'new' }),
    ).to.equal(1);
  });

  it('rejects malformed snapshots whole, keeps the previous values and asks for every description again', () => {
    const worker = newStore();
    worker.counter('tuist_runs_total').add(4, run);
    const enc = new SnapshotEncoder(worker, true);
    const view = new ClusterView(catalog, opts);
    const snaps = new WorkerSnapshots();
    const good = enc.encode('snapshot', 1, 0);
    expect(snaps.apply(good, view.familyOf)).to.equal(undefined);
    const data = good.data as Float64Array;
    const runsAt = [...data].findIndex((_, i) => i > 0 && data[i] === 4);
    const bad: Snapshot[] = [
      { ...good, data: 'xyz' },
      { ...good, data: 42 as unknown as string },
      { ...good, next: -1 },
      { ...good, defs: [0, 99] },
      { ...good, families: [['tuist_runs_total', [1, 2] as unknown as string[], 1]] },
      { ...good, defs: [], data: Float64Array.of(123456, 1) },
      { ...good, data: data.map((v, i) => (i === runsAt ? -1 : v)) },
      { ...good, data: data.map((v, i) => (i === runsAt ? NaN : v)) },
      { ...good, data: data.subarray(0, data.length - 1) },
      { ...good, data: Float64Array.from([...data, ...data]) },
    ];
    for (const b of bad) {
      expect(snaps.apply(b, view.familyOf), JSON.stringify(b).slice(0, 200)).to.be.a('string');
      expect(snaps.known).to.equal(0);
      expect(valueIn(view.build(newStore(), [{ id: '1', snapshots: snaps }]), 'tuist_runs_total', run)).to.equal(4);
    }
  });

  it('forgets the descriptions of series the worker no longer has', () => {
    const worker = newStore();
    const enc = new SnapshotEncoder(worker, true);
    const view = new ClusterView(catalog, opts);
    const snaps = new WorkerSnapshots();
    const pool = worker.gauge('tuist_http_queue_in_use_connections');
    for (let i = 0; i < 5; i++) pool.set(1, { url: 'https://s3', size: '10', index: String(i) });
    expect(snaps.apply(enc.encode('snapshot', 1, snaps.known), view.familyOf)).to.equal(undefined);
    const described = snaps.defs.size;
    for (let i = 0; i < 5; i++) pool.remove({ url: 'https://s3', size: '10', index: String(i) });
    expect(snaps.apply(enc.encode('snapshot', 2, snaps.known), view.familyOf)).to.equal(undefined);
    expect(snaps.defs.size).to.equal(described - 5);
    expect(
      valueIn(view.build(newStore(), [{ id: '1', snapshots: snaps }]), 'tuist_http_queue_in_use_connections', {
        url: 'https://s3',
        size: '10',
        index: '0',
      }),
    ).to.equal(undefined);
  });

  it('merges by rule: counters summed with retired workers kept, gauges summed / once / per worker', () => {
    const view = new ClusterView(catalog, opts);
    const own = newStore();
    const workers = [newStore(), newStore()];
    const snaps = workers.map(() => new WorkerSnapshots());
    const encs = workers.map((w) => new SnapshotEncoder(w, true));
    own.counter('tuist_runs_total').add(1, run);
    workers.forEach((w, i) => {
      w.counter('tuist_runs_total').add(10 * (i + 1), run);
      w.gauge('tuist_repo_pool_size').set(5, { repo: 'main' });
      w.gauge('tuist_projects_total').set(i === 0 ? 40 : 41);
      w.gauge('process_resident_memory_bytes').set(1000 + i);
    });
    own.gauge('process_resident_memory_bytes').set(7);
    const collect = () =>
      workers.forEach((_, i) =>
        expect(snaps[i]!.apply(encs[i]!.encode('snapshot', 1, snaps[i]!.known), view.familyOf)).to.equal(undefined),
      );
    collect();
    let m = view.build(
      own,
      snaps.map((s, i) => ({ id: String(i + 1), snapshots: s })),
    );
    expect(valueIn(m, 'tuist_runs_total', run)).to.equal(31);
    expect(valueIn(m, 'tuist_repo_pool_size', { repo: 'main' })).to.equal(10);
    expect(valueIn(m, 'tuist_projects_total', {})).to.equal(41);
    expect(valueIn(m, 'process_resident_memory_bytes', { worker: '1' })).to.equal(1000);
    expect(valueIn(m, 'process_resident_memory_bytes', { worker: '2' })).to.equal(1001);
    expect(valueIn(m, 'process_resident_memory_bytes', { worker: PRIMARY_WORKER })).to.equal(7);
    // Worker 2 exits: its count stays, its gauges go.
    view.retire(snaps[1]!);
    m = view.build(own, [{ id: '1', snapshots: snaps[0]! }]);
    expect(valueIn(m, 'tuist_runs_total', run)).to.equal(31);
    expect(valueIn(m, 'tuist_repo_pool_size', { repo: 'main' })).to.equal(5);
    expect(valueIn(m, 'tuist_projects_total', {})).to.equal(40);
    expect(valueIn(m, 'process_resident_memory_bytes', { worker: '2' })).to.equal(undefined);
    workers[0]!.counter('tuist_runs_total').add(1, run);
    collect.call(null);
    m = view.build(own, [{ id: '1', snapshots: snaps[0]! }]);
    expect(valueIn(m, 'tuist_runs_total', run)).to.equal(32);
  });
});
