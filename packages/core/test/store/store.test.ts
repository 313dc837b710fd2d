import { expect } from 'chai';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { MetricStore, RateLimitedLogger, logger, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { storeWithWarnings } from '../helpers/index.js';

// The metric store on its own (store.ts): series creation and normalisation, the label bound and its overflow
// series and self-metric, remove/clear (also with two or more labels), bucket placement, start-up series and
// collection callbacks.

const OVERFLOW_METRIC = 'tuist_telemetry_label_overflow_total';

const defs: MetricDefinition[] = [
  { name: OVERFLOW_METRIC, type: 'counter', family: 'telemetry', description: 'overflow', labels: ['metric', 'label'] },
  { name: 'test_jobs_total', type: 'counter', family: 'test', description: 'jobs', labels: ['queue', 'state'] },
  { name: 'test_level', type: 'gauge', family: 'test', description: 'level', labels: [] },
  { name: 'test_pool', type: 'gauge', family: 'test', description: 'pool', labels: [], optionalLabels: ['repo'] },
  {
    name: 'test_started_total',
    type: 'counter',
    family: 'test',
    description: 'initial',
    labels: ['kind'],
    initialSeries: [{ kind: 'a' }, { kind: 'b' }],
  },
  {
    name: 'test_size_bytes',
    type: 'histogram',
    family: 'test',
    description: 'size',
    labels: ['op'],
    buckets: [1, 10, 100],
  },
  {
    name: 'test_pool_connections',
    type: 'gauge',
    family: 'test',
    description: 'two labels',
    labels: ['pool', 'state'],
  },
  { name: 'test_three', type: 'gauge', family: 'test', description: 'three labels', labels: ['a', 'b', 'c'] },
  { name: 'test_nobuckets', type: 'histogram', family: 'test', description: 'no buckets', labels: [] },
  {
    name: 'test_opt_seconds',
    type: 'histogram',
    family: 'test',
    description: 'optional only',
    labels: [],
    optionalLabels: ['repo'],
    buckets: [1],
  },
];

const store = (maxLabelValues = 1000) => storeWithWarnings(defs, maxLabelValues);

const values = (s: MetricStore, name: string) =>
  [...(s.counter(name) as unknown as { series: Set<{ labelValues: string[]; value: number }> }).series]
    .map((x) => `${x.labelValues.join(',')}=${x.value}`)
    .sort();

/** Every series as `labels=value`, sorted; a label set that appears twice fails (a duplicate series). */
function contents(s: MetricStore, name: string): string[] {
  const out = [...s.gauge(name).series].map((x) => `${x.labelValues.join(',')}=${x.value}`).sort();
  const keys = out.map((l) => l.slice(0, l.indexOf('=')));
  expect(new Set(keys).size, `duplicate series: ${out.join(' ')}`).to.equal(keys.length);
  return out;
}

describe('core store: series, normalisation, bound, remove/clear', () => {
  before(() =>
    diag.setLogger(
      { error() {}, warn() {}, info() {}, debug() {}, verbose() {} },
      { logLevel: DiagLogLevel.NONE, suppressOverrideMessage: true },
    ),
  );
  after(() => diag.disable());

  it('one series per label set; numbers and booleans are the same series as their string spelling', () => {
    const { s } = store();
    const c = s.counter('test_jobs_total');
    c.add(1, { queue: 'q', state: 'ok' });
    c.add(2, { queue: 'q', state: 'ok' });
    c.add(1, { queue: '5', state: 'true' });
    c.add(1, { queue: 5, state: true });
    c.add(1, { queue: 5n, state: 'true' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['5,true=3', 'q,ok=3']);
  });

  it('a missing required label is recorded as "unknown" and warned once per metric and label', () => {
    const { s, warned } = store();
    const c = s.counter('test_jobs_total');
    c.add(1, { queue: 'q' });
    c.add(1, { queue: 'q', state: null });
    c.add(1, undefined);
    expect(values(s, 'test_jobs_total')).to.deep.equal(['q,unknown=2', 'unknown,unknown=1']);
    c.add(1, null as never);
    expect(values(s, 'test_jobs_total')).to.deep.equal(['q,unknown=2', 'unknown,unknown=2']);
    // remove() finds a series by the same normalisation.
    c.remove(null as never);
    c.remove({ queue: 'q' });
    expect(values(s, 'test_jobs_total')).to.deep.equal([]);
    expect(warned.map((w) => w.key)).to.include('label-missing:test_jobs_total:state');
    expect(warned.find((w) => w.key === 'label-missing:test_jobs_total:state')!.message).to.contain(
      '"state" is missing',
    );
  });

  it('an object label value is recorded as "invalid" with a warning naming the label', () => {
    const { s, warned } = store();
    s.counter('test_jobs_total').add(1, { queue: {} as never, state: Symbol('x') as never });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['invalid,invalid=1']);
    expect(warned.map((w) => w.key)).to.include.members([
      'label-invalid:test_jobs_total:queue',
      'label-invalid:test_jobs_total:state',
    ]);
  });

  it('a value over the length limit is truncated into one series, with a warning', () => {
    const { s, warned } = store();
    const c = s.counter('test_jobs_total');
    c.add(1, { queue: 'x'.repeat(2000), state: 'ok' });
    c.add(1, { queue: 'x'.repeat(3000), state: 'ok' });
    c.add(1, { queue: 'x'.repeat(1024), state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal([`${'x'.repeat(1024)},ok=3`]);
    expect(warned.map((w) => w.key)).to.include('label-too-long');
  });

  it('past maxLabelValues distinct values a label records __overflow__, counted per metric and label', () => {
    const { s, warned } = store(2);
    const c = s.counter('test_jobs_total');
    for (const q of ['a', 'b', 'c', 'd', 'a']) c.add(1, { queue: q, state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['__overflow__,ok=2', 'a,ok=2', 'b,ok=1']);
    expect(values(s, OVERFLOW_METRIC)).to.deep.equal(['test_jobs_total,queue=2']);
    const w = warned.find((x) => x.key === 'overflow:test_jobs_total:queue');
    expect(w, 'overflow warning').to.not.equal(undefined);
    expect(w!.message).to.contain('reached 2 distinct values').and.contain('__overflow__');
    // remove() of an overflowed value finds the overflow series, as a recording of it would.
    s.counter('test_jobs_total').remove({ queue: 'zzz', state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['a,ok=2', 'b,ok=1']);
  });

  it('without the overflow self-metric in the definitions, overflow still records __overflow__', () => {
    const warn = new RateLimitedLogger(logger('test'));
    const s = new MetricStore(
      defs.filter((d) => d.name !== OVERFLOW_METRIC),
      { naming: 'docs', highCardinality: new Set(), enabledHighCardinality: new Set(), maxLabelValues: 1, warn },
    );
    const c = s.counter('test_jobs_total');
    for (const q of ['a', 'b', 'c']) c.add(1, { queue: q, state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['__overflow__,ok=2', 'a,ok=1']);
  });

  it('clear() forgets labelled series and the bound; an unlabelled series stays at its value', () => {
    const { s } = store(2);
    const c = s.counter('test_jobs_total');
    for (const q of ['a', 'b', 'c']) c.add(1, { queue: q, state: 'ok' });
    c.clear();
    expect(values(s, 'test_jobs_total')).to.deep.equal([]);
    // A value seen before clear() starts a fresh series, and the bound has room for two new values again.
    for (const q of ['a', 'c']) c.add(1, { queue: q, state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['a,ok=1', 'c,ok=1']);
    const g = s.gauge('test_level');
    g.set(4);
    g.clear();
    g.remove(undefined);
    expect([...g.series].map((x) => x.value)).to.deep.equal([4]);
  });

  it('unlabelled counters/gauges with only optional labels and initialSeries exist from start-up at 0', () => {
    const { s } = store();
    expect([...s.gauge('test_pool').series].map((x) => `${x.labelValues.join(',')}=${x.value}`)).to.deep.equal(['=0']);
    expect(values(s, 'test_started_total')).to.deep.equal(['a=0', 'b=0']);
    expect(values(s, 'test_jobs_total')).to.deep.equal([]);
    expect([...s.histogram('test_size_bytes').series]).to.have.length(0);
    // Histograms never get a start-up series: an empty one would be served as zero observations.
    expect([...s.histogram('test_opt_seconds').series]).to.have.length(0);
    s.gauge('test_pool').set(3, { repo: 'r' });
    s.gauge('test_pool').set(5, {});
    expect([...s.gauge('test_pool').series].map((x) => `${x.labelValues.join(',')}=${x.value}`).sort()).to.deep.equal([
      '=5',
      'r=3',
    ]);
  });

  it('bad values are dropped with a warning; counters and histograms refuse negatives, gauges take them', () => {
    const { s, warned } = store();
    const c = s.counter('test_jobs_total');
    for (const v of [-1, NaN, Infinity, -Infinity, '5' as never]) c.add(v, { queue: 'q', state: 'ok' });
    c.add(0, { queue: 'q', state: 'ok' });
    expect(values(s, 'test_jobs_total')).to.deep.equal(['q,ok=0']);
    const g = s.gauge('test_level');
    g.set(-3);
    for (const v of [NaN, Infinity, -Infinity]) g.set(v);
    expect([...g.series].map((x) => x.value)).to.deep.equal([-3]);
    const h = s.histogram('test_size_bytes');
    for (const v of [-1, NaN, Infinity]) h.record(v, { op: 'x' });
    expect([...h.series]).to.have.length(0);
    expect(warned.map((w) => w.key)).to.include.members([
      'bad-value:test_jobs_total',
      'bad-value:test_level',
      'bad-value:test_size_bytes',
    ]);
  });

  it('histogram buckets: upper bounds inclusive, past the last bound only in +Inf; no buckets means one +Inf count', () => {
    const { s } = store();
    const h = s.histogram('test_size_bytes');
    for (const v of [0, 1, 1.0001, 10, 11, 100, 101, 1e9]) h.record(v, { op: 'w' });
    const [series] = [...h.series];
    expect([...series!.counts]).to.deep.equal([2, 2, 2, 2]);
    expect(series!.count).to.equal(8);
    expect(series!.sum).to.equal(0 + 1 + 1.0001 + 10 + 11 + 100 + 101 + 1e9);
    expect(h.buckets).to.deep.equal([1, 10, 100]);
    const n = s.histogram('test_nobuckets');
    n.record(3);
    n.record(0);
    expect(n.buckets).to.deep.equal([]);
    const [ns] = [...n.series];
    expect([...ns!.counts]).to.deep.equal([2]);
  });

  it('a label object whose getter throws drops the recording with a warning, never throws', () => {
    const { s, warned } = store();
    const labels = {
      queue: 'q',
      get state(): string {
        throw new Error('boom');
      },
    };
    expect(() => s.counter('test_jobs_total').add(1, labels)).to.not.throw();
    expect(warned.map((x) => x.key)).to.include('record-failed:test_jobs_total');
    warned.length = 0;
    expect(() => s.counter('test_jobs_total').remove(labels)).to.not.throw();
    expect(values(s, 'test_jobs_total')).to.deep.equal([]);
    const w = warned.find((x) => x.key === 'record-failed:test_jobs_total');
    expect(w!.message).to.contain('boom');
  });

  it('onCollect callbacks run on every collection until unsubscribed; a throwing one does not stop the others', () => {
    const { s } = store();
    const calls: string[] = [];
    const offA = s.onCollect(() => calls.push('a'));
    s.onCollect(() => {
      throw new Error('x');
    });
    s.onCollect(() => calls.push('c'));
    s.runCollectCallbacks();
    offA();
    s.runCollectCallbacks();
    expect(calls).to.deep.equal(['a', 'c', 'c']);
  });

  it('family lookups by name check the type', () => {
    const { s } = store();
    expect(() => s.counter('test_level')).to.throw(/"test_level" is not a counter of the catalog/);
    expect(() => s.gauge('nope')).to.throw(/not a gauge/);
    expect(() => s.histogram('test_level')).to.throw(/not a histogram/);
  });
});

describe('core store: MetricFamily.remove with two or more labels (issue 17 item 5)', () => {
  before(() =>
    diag.setLogger(
      { error() {}, warn() {}, info() {}, debug() {}, verbose() {} },
      { logLevel: DiagLogLevel.NONE, suppressOverrideMessage: true },
    ),
  );
  after(() => diag.disable());

  it('removes one series and keeps its siblings reachable: a later set updates them in place', () => {
    const { s } = store();
    const g = s.gauge('test_pool_connections');
    g.set(1, { pool: 'main', state: 'idle' });
    g.set(2, { pool: 'main', state: 'used' });
    g.set(3, { pool: 'replica', state: 'idle' });
    g.remove({ pool: 'main', state: 'idle' });
    expect(contents(s, 'test_pool_connections')).to.deep.equal(['main,used=2', 'replica,idle=3']);
    // The parent node of `main` still has `used`: pruning it would make this a second main,used series.
    g.set(20, { pool: 'main', state: 'used' });
    g.set(30, { pool: 'replica', state: 'idle' });
    expect(contents(s, 'test_pool_connections')).to.deep.equal(['main,used=20', 'replica,idle=30']);
    // Once a parent has no children left it is pruned, and the label set can come back as a fresh series.
    g.remove({ pool: 'main', state: 'used' });
    expect(contents(s, 'test_pool_connections')).to.deep.equal(['replica,idle=30']);
    g.set(5, { pool: 'main', state: 'used' });
    g.set(6, { pool: 'main', state: 'used' });
    expect(contents(s, 'test_pool_connections')).to.deep.equal(['main,used=6', 'replica,idle=30']);
  });

  it('three labels: removing a leaf keeps every branch that still holds series; unknown label sets are a no-op', () => {
    const { s } = store();
    const g = s.gauge('test_three');
    const all = [
      ['x', '1', 'p'],
      ['x', '1', 'q'],
      ['x', '2', 'p'],
      ['y', '1', 'p'],
    ];
    all.forEach(([a, b, c], i) => g.set(i + 1, { a, b, c }));
    g.remove({ a: 'x', b: '1', c: 'p' });
    g.remove({ a: 'x', b: '3', c: 'p' });
    g.remove({ a: 'z', b: '1', c: 'p' });
    expect(contents(s, 'test_three')).to.deep.equal(['x,1,q=2', 'x,2,p=3', 'y,1,p=4']);
    g.remove({ a: 'x', b: '1', c: 'q' });
    for (const [a, b, c] of all.slice(2)) g.set(10, { a, b, c });
    expect(contents(s, 'test_three')).to.deep.equal(['x,2,p=10', 'y,1,p=10']);
    g.remove({ a: 'x', b: '2', c: 'p' });
    g.remove({ a: 'y', b: '1', c: 'p' });
    expect(contents(s, 'test_three')).to.deep.equal([]);
    g.set(7, { a: 'x', b: '2', c: 'p' });
    g.set(8, { a: 'x', b: '2', c: 'p' });
    expect(contents(s, 'test_three')).to.deep.equal(['x,2,p=8']);
  });
});
