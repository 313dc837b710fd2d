import { expect } from 'chai';
import { CounterRef, HistogramRef, type MetricStore, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { storeWithWarnings } from '../helpers/index.js';

// Series refs (store/series-refs.ts): a label set held for repeated recordings records exactly what the family's
// own add/record with those labels records, also after the family forgot series and past the label bound.

const OVERFLOW_METRIC = 'tuist_telemetry_label_overflow_total';
const defs: MetricDefinition[] = [
  { name: OVERFLOW_METRIC, type: 'counter', family: 'telemetry', description: 'overflow', labels: ['metric', 'label'] },
  { name: 'test_jobs_total', type: 'counter', family: 'test', description: 'jobs', labels: ['queue', 'state'] },
  { name: 'test_size_bytes', type: 'histogram', family: 'test', description: 'size', labels: ['op'], buckets: [1, 10] },
];

/** The store and the keys of its warnings, in order. */
function store(maxLabelValues = 1000): { s: MetricStore; warned: () => string[] } {
  const { s, warned } = storeWithWarnings(defs, maxLabelValues);
  return { s, warned: () => warned.map((w) => w.key) };
}

const counts = (s: MetricStore, name: string) =>
  [...s.counter(name).series].map((x) => `${x.labelValues.join(',')}=${x.value}`).sort();
const histograms = (s: MetricStore) =>
  [...s.histogram('test_size_bytes').series].map((x) => `${x.labelValues.join(',')}:${[...x.counts]},${x.sum}`).sort();

describe('core store: series refs record like the family', () => {
  it('the first recording creates the series, the next ones add to it', () => {
    const { s } = store();
    const ref = new CounterRef(s.counter('test_jobs_total'), Object.freeze({ queue: 'q', state: 'ok' }));
    ref.add(1);
    ref.add(2);
    s.counter('test_jobs_total').add(4, { queue: 'q', state: 'ok' });
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=7']);
    const h = new HistogramRef(s.histogram('test_size_bytes'), Object.freeze({ op: 'get' }));
    for (const v of [0, 1, 5, 50]) h.record(v);
    expect(histograms(s)).to.deep.equal(['get:2,1,1,56']);
  });

  it('after clear and remove it records into the series the family exports now', () => {
    const { s } = store();
    const family = s.counter('test_jobs_total');
    const ref = new CounterRef(family, Object.freeze({ queue: 'q', state: 'ok' }));
    // The first recording creates the series, the second finds it and keeps it.
    ref.add(1);
    ref.add(1);
    family.clear();
    ref.add(2);
    ref.add(2);
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=4']);
    family.remove({ queue: 'q', state: 'ok' });
    ref.add(3);
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=3']);
    const hf = s.histogram('test_size_bytes');
    const h = new HistogramRef(hf, Object.freeze({ op: 'get' }));
    h.record(5);
    h.record(5);
    hf.clear();
    h.record(50);
    expect(histograms(s)).to.deep.equal(['get:0,0,1,50']);
  });

  it('labels past the bound or normalised go through the general path on every recording (overflow counted each time)', () => {
    const { s, warned } = store(2);
    const family = s.counter('test_jobs_total');
    family.add(1, { queue: 'a', state: 'ok' });
    family.add(1, { queue: 'b', state: 'ok' });
    const ref = new CounterRef(family, Object.freeze({ queue: 'c', state: 'ok' }));
    ref.add(1);
    ref.add(1);
    const missing = new CounterRef(family, Object.freeze({ queue: 'a' }));
    missing.add(1);
    missing.add(1);
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['__overflow__,ok=2', 'a,ok=1', 'a,unknown=2', 'b,ok=1']);
    expect(counts(s, OVERFLOW_METRIC)).to.deep.equal(['test_jobs_total,queue=2']);
    expect(warned()).to.include('overflow:test_jobs_total:queue');
  });

  it('drops values the family drops, with its warning', () => {
    const { s, warned } = store();
    const ref = new CounterRef(s.counter('test_jobs_total'), Object.freeze({ queue: 'q', state: 'ok' }));
    ref.add(1);
    ref.add(-1);
    ref.add(Number.NaN);
    const h = new HistogramRef(s.histogram('test_size_bytes'), Object.freeze({ op: 'get' }));
    h.record(1);
    h.record(Infinity);
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=1']);
    expect(histograms(s)).to.deep.equal(['get:1,0,0,1']);
    expect(warned()).to.deep.equal([
      'bad-value:test_jobs_total',
      'bad-value:test_jobs_total',
      'bad-value:test_size_bytes',
    ]);
  });

  it('looks the label set up once while the family forgot nothing, and once again after it did (the point of a ref)', () => {
    const { s } = store();
    const calls = { existing: 0, add: 0, record: 0 };
    // Counting wrappers on the family's own methods: what a ref exists to skip is the per-recording label lookup.
    const count = <T extends object>(target: T, name: keyof typeof calls & keyof T) => {
      const original = (target as Record<string, (...a: unknown[]) => unknown>)[name]!;
      (target as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
        calls[name]++;
        return original.apply(this, a);
      };
    };
    const family = s.counter('test_jobs_total');
    count(family, 'existing');
    count(family, 'add');
    family.add(1, { queue: 'q', state: 'ok' });
    calls.add = 0;
    const ref = new CounterRef(family, Object.freeze({ queue: 'q', state: 'ok' }));
    for (let i = 0; i < 5; i++) ref.add(1);
    expect(calls).to.deep.equal({ existing: 1, add: 0, record: 0 });
    family.remove({ queue: 'q', state: 'ok' });
    for (let i = 0; i < 5; i++) ref.add(1);
    // The series was gone: one lookup finds nothing, the general path creates it, the next lookup keeps it.
    expect(calls).to.deep.equal({ existing: 3, add: 1, record: 0 });
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=5']);

    const hf = s.histogram('test_size_bytes');
    count(hf, 'existing');
    count(hf, 'record');
    const h = new HistogramRef(hf, Object.freeze({ op: 'get' }));
    for (let i = 0; i < 5; i++) h.record(1);
    expect(calls).to.deep.equal({ existing: 5, add: 1, record: 1 });
    expect(histograms(s)).to.deep.equal(['get:5,0,0,5']);
  });

  it('pending counts reach the family at each collection, exactly once, also after an idle collection and a clear', () => {
    const { s } = store();
    const family = s.counter('test_jobs_total');
    const c = s.pendingCounts.of(family, Object.freeze({ queue: 'q', state: 'ok' }));
    const other = s.pendingCounts.of(family, Object.freeze({ queue: 'r', state: 'ok' }));
    c.inc();
    c.inc();
    other.inc();
    // Only collections read the family: until one, the counts wait on the PendingCount.
    expect(counts(s, 'test_jobs_total')).to.deep.equal([]);
    s.runCollectCallbacks();
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=2', 'r,ok=1']);
    // A collection with nothing pending adds nothing (and drops them from the list)...
    s.runCollectCallbacks();
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=2', 'r,ok=1']);
    // ... and the next increments list them again.
    c.inc();
    s.runCollectCallbacks();
    s.runCollectCallbacks();
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=3', 'r,ok=1']);
    family.clear();
    c.inc();
    s.runCollectCallbacks();
    expect(counts(s, 'test_jobs_total')).to.deep.equal(['q,ok=1']);
  });

  it('pending counts are flushed before the collect callbacks run (a callback reads them in place)', () => {
    const { s } = store();
    const family = s.counter('test_jobs_total');
    const c = s.pendingCounts.of(family, Object.freeze({ queue: 'q', state: 'ok' }));
    const seen: string[][] = [];
    s.onCollect(() => seen.push(counts(s, 'test_jobs_total')));
    c.inc();
    s.runCollectCallbacks();
    expect(seen).to.deep.equal([['q,ok=1']]);
  });
});
