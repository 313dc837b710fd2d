import { expect } from 'chai';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { MetricStore, RateLimitedLogger, logger, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { storeTextExposition } from '../src/prometheus/serialize.js';

// Survivors of `npm run mutate` in prometheus/serialize.ts: the fast writer's output for catalog-shaped metrics,
// checked sample by sample (every bucket, +Inf, _sum and _count), and across buffer growth.

const defs: MetricDefinition[] = [
  {
    name: 'test_duration_seconds',
    type: 'histogram',
    family: 'test',
    description: 'latency',
    labels: ['route'],
    buckets: [0.1, 1, 10],
  },
  { name: 'test_bare_seconds', type: 'histogram', family: 'test', description: 'no labels', labels: [], buckets: [5] },
  {
    name: 'test_requests_total',
    type: 'counter',
    family: 'test',
    description: 'requests',
    labels: ['method', 'status'],
  },
  { name: 'test_level', type: 'gauge', family: 'test', description: 'level', labels: [] },
  {
    name: 'test_optional',
    type: 'gauge',
    family: 'test',
    description: 'optional label',
    labels: ['a'],
    optionalLabels: ['repo'],
  },
];

function store(): MetricStore {
  return new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues: 100000,
    maxSeriesPerMetric: 100000,
    warn: new RateLimitedLogger(logger('test')),
  });
}

async function lines(s: MetricStore, scopeLabels?: string, tail = ''): Promise<string[]> {
  const body = (await storeTextExposition(s, scopeLabels === undefined ? {} : { scopeLabels }, tail)).toString('utf8');
  expect(body.endsWith('\n'), 'body ends with a line feed').to.equal(true);
  return body.slice(0, -1).split('\n');
}

/** The sample lines of `name` (its own samples, `_bucket`, `_sum`, `_count`), in order. */
function samples(all: string[], name: string): string[] {
  return all.filter(
    (l) => !l.startsWith('#') && (l.startsWith(name + '{') || l.startsWith(name + ' ') || l.startsWith(name + '_')),
  );
}

describe('prometheus serialize: catalog metrics sample by sample', () => {
  before(() =>
    diag.setLogger(
      { error() {}, warn() {}, info() {}, debug() {}, verbose() {} },
      { logLevel: DiagLogLevel.NONE, suppressOverrideMessage: true },
    ),
  );
  after(() => diag.disable());

  it('histogram: cumulative buckets, +Inf = count, _sum and _count, with and without labels', async () => {
    const s = store();
    const h = s.histogram('test_duration_seconds');
    // 0.1 is inclusive (le="0.1"), 20 is past the last bound (+Inf only).
    for (const v of [0.05, 0.1, 0.5, 1, 2, 20]) h.record(v, { route: '/a' });
    h.record(3, { route: 'q"\\\n' });
    s.histogram('test_bare_seconds').record(7);
    const all = await lines(s);
    expect(all).to.include.members(['# HELP test_duration_seconds latency', '# TYPE test_duration_seconds histogram']);
    expect(samples(all, 'test_duration_seconds')).to.deep.equal([
      'test_duration_seconds_bucket{route="/a",le="0.1"} 2',
      'test_duration_seconds_bucket{route="/a",le="1"} 4',
      'test_duration_seconds_bucket{route="/a",le="10"} 5',
      'test_duration_seconds_bucket{route="/a",le="+Inf"} 6',
      'test_duration_seconds_sum{route="/a"} 23.65',
      'test_duration_seconds_count{route="/a"} 6',
      'test_duration_seconds_bucket{route="q\\"\\\\\\n",le="0.1"} 0',
      'test_duration_seconds_bucket{route="q\\"\\\\\\n",le="1"} 0',
      'test_duration_seconds_bucket{route="q\\"\\\\\\n",le="10"} 1',
      'test_duration_seconds_bucket{route="q\\"\\\\\\n",le="+Inf"} 1',
      'test_duration_seconds_sum{route="q\\"\\\\\\n"} 3',
      'test_duration_seconds_count{route="q\\"\\\\\\n"} 1',
    ]);
    expect(samples(all, 'test_bare_seconds')).to.deep.equal([
      'test_bare_seconds_bucket{le="5"} 0',
      'test_bare_seconds_bucket{le="+Inf"} 1',
      'test_bare_seconds_sum 7',
      'test_bare_seconds_count 1',
    ]);
  });

  it('scope labels go on every sample, after the series labels and before le', async () => {
    const s = store();
    s.histogram('test_bare_seconds').record(1);
    s.counter('test_requests_total').add(2, { method: 'GET', status: '200' });
    const all = await lines(s, 'otel_scope_name="x"');
    expect(samples(all, 'test_bare_seconds')).to.deep.equal([
      'test_bare_seconds_bucket{otel_scope_name="x",le="5"} 1',
      'test_bare_seconds_bucket{otel_scope_name="x",le="+Inf"} 1',
      'test_bare_seconds_sum{otel_scope_name="x"} 1',
      'test_bare_seconds_count{otel_scope_name="x"} 1',
    ]);
    expect(samples(all, 'test_requests_total')).to.deep.equal([
      'test_requests_total{method="GET",status="200",otel_scope_name="x"} 2',
    ]);
    expect(samples(all, 'test_level')).to.deep.equal(['test_level{otel_scope_name="x"} 0']);
  });

  it('counters and gauges: numbers written as formatValue spells them, unset optional labels left out', async () => {
    const s = store();
    const g = s.gauge('test_level');
    const c = s.counter('test_requests_total');
    const cases: [number, string][] = [
      [0, '0'],
      [9, '9'],
      [10, '10'],
      [1234567890, '1234567890'],
      [2147483647, '2147483647'],
      [2147483648, '2147483648'],
      [4294967296, '4294967296'],
      [1e21, '1e+21'],
      [0.25, '0.25'],
      [3.5e-9, '3.5e-9'],
    ];
    for (const [v, text] of cases) {
      c.add(v, { method: text, status: 'x' });
    }
    g.set(-1);
    expect(samples(await lines(s), 'test_level')).to.deep.equal(['test_level -1']);
    g.set(-0.5);
    expect(samples(await lines(s), 'test_level')).to.deep.equal(['test_level -0.5']);
    g.set(-2147483648);
    expect(samples(await lines(s), 'test_level')).to.deep.equal(['test_level -2147483648']);
    g.set(7.5);
    const all = await lines(s);
    expect(samples(all, 'test_level')).to.deep.equal(['test_level 7.5']);
    expect(samples(all, 'test_requests_total')).to.deep.equal(
      cases.map(([, text]) => `test_requests_total{method="${text}",status="x"} ${text}`),
    );
    s.gauge('test_optional').set(1, { a: 'x' });
    s.gauge('test_optional').set(2, { a: 'y', repo: 'r' });
    s.gauge('test_optional').set(3, { a: '', repo: 'r' });
    expect(samples(await lines(s), 'test_optional')).to.deep.equal([
      'test_optional{a="x"} 1',
      'test_optional{a="y",repo="r"} 2',
      'test_optional{repo="r"} 3',
    ]);
  });

  it('a body far past the first buffer, and the same store scraped again, writes every line whole', async () => {
    const s = store();
    const c = s.counter('test_requests_total');
    const h = s.histogram('test_duration_seconds');
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const method = 'm'.repeat(i % 50) + i;
      c.add(i, { method, status: 'ok' });
      expected.push(`test_requests_total{method="${method}",status="ok"} ${i}`);
      h.record(i % 3 === 0 ? 0.01 : 50, { route: method });
    }
    const tail = '# HELP third_party x\n# TYPE third_party gauge\nthird_party ' + 'é'.repeat(5000) + ' 1\n';
    for (let round = 0; round < 2; round++) {
      const all = await lines(s, undefined, tail);
      expect(samples(all, 'test_requests_total')).to.deep.equal(expected);
      const hs = samples(all, 'test_duration_seconds');
      expect(hs).to.have.length(3000 * 6);
      for (let i = 0; i < 3000; i += 499) {
        const method = 'm'.repeat(i % 50) + i;
        const low = i % 3 === 0 ? 1 : 0;
        expect(hs.slice(i * 6, i * 6 + 6)).to.deep.equal([
          `test_duration_seconds_bucket{route="${method}",le="0.1"} ${low}`,
          `test_duration_seconds_bucket{route="${method}",le="1"} ${low}`,
          `test_duration_seconds_bucket{route="${method}",le="10"} ${low}`,
          `test_duration_seconds_bucket{route="${method}",le="+Inf"} 1`,
          `test_duration_seconds_sum{route="${method}"} ${low ? 0.01 : 50}`,
          `test_duration_seconds_count{route="${method}"} 1`,
        ]);
      }
      expect(all.slice(-3)).to.deep.equal([
        '# HELP third_party x',
        '# TYPE third_party gauge',
        'third_party ' + 'é'.repeat(5000) + ' 1',
      ]);
    }
  });
});
