import { expect } from 'chai';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { MetricStore, RateLimitedLogger, logger, type MetricDefinition } from '@tuist-telemetry/core/internal';

const defs: MetricDefinition[] = [
  {
    name: 'test_pool_connections',
    type: 'gauge',
    family: 'test',
    description: 'two labels',
    labels: ['pool', 'state'],
  },
  { name: 'test_three', type: 'gauge', family: 'test', description: 'three labels', labels: ['a', 'b', 'c'] },
];

function store(): MetricStore {
  return new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues: 1000,
    warn: new RateLimitedLogger(logger('test')),
  });
}

/** Every series as `labels=value`, sorted; a label set that appears twice fails (a duplicate series). */
function contents(s: MetricStore, name: string): string[] {
  const out = [...s.gauge(name).series].map((x) => `${x.labelValues.join(',')}=${x.value}`).sort();
  const keys = out.map((l) => l.slice(0, l.indexOf('=')));
  expect(new Set(keys).size, `duplicate series: ${out.join(' ')}`).to.equal(keys.length);
  return out;
}

describe('core store: MetricFamily.remove with two or more labels (issue 17 item 5)', () => {
  before(() =>
    diag.setLogger(
      { error() {}, warn() {}, info() {}, debug() {}, verbose() {} },
      { logLevel: DiagLogLevel.NONE, suppressOverrideMessage: true },
    ),
  );
  after(() => diag.disable());

  it('removes one series and keeps its siblings reachable: a later set updates them in place', () => {
    const s = store();
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
    const s = store();
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
