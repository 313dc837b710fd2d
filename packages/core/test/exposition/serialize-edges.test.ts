import { expect } from 'chai';
import { MetricStore, RateLimitedLogger, logger, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { gunzipSync } from 'node:zlib';
import { gzipStoreMembers } from '../../src/prometheus/compress.js';
import { serializeSeriesBytes, storeTextExposition } from '../../src/prometheus/serialize.js';

/**
 * The text writer at its edges: integers at and past 2^31 (the digits fast path ends there), the `+Inf` bucket when
 * the buckets do not add up to the count (a merged histogram), `_created` only when asked for, a piece without its
 * family header (the gzip piece cache), and a family that cannot be written with no one to tell. The common output
 * is pinned in serialize-survivors.test.ts and format.test.ts.
 */

const defs: MetricDefinition[] = [
  { name: 'edge_total', type: 'counter', family: 'test', description: 'a counter', labels: ['k'] },
  { name: 'edge_level', type: 'gauge', family: 'test', description: 'a gauge', labels: [] },
  { name: 'edge_seconds', type: 'histogram', family: 'test', description: 'a histogram', labels: [], buckets: [1, 2] },
];

function newStore(): MetricStore {
  return new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues: 100,
    warn: new RateLimitedLogger(logger('test')),
  });
}

const lines = (b: Buffer): string[] =>
  b
    .toString()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('core: text writer edges (large integers, +Inf, _created, header-less pieces)', () => {
  it('integers around 2^31 and beyond are written exactly', async () => {
    const s = newStore();
    const values = [2147483647, 2147483648, 2147483649, 3000000000, 4294967296, 9007199254740991];
    values.forEach((v, i) => s.counter('edge_total').add(v, { k: String(i) }));
    s.gauge('edge_level').set(-2147483648);
    const out = lines(await storeTextExposition(s));
    values.forEach((v, i) => expect(out).to.include(`edge_total{k="${i}"} ${v}`));
    expect(out).to.include('edge_level -2147483648');
  });

  it('+Inf is the count of observations even when the buckets add up to less', async () => {
    const s = newStore();
    const h = s.histogram('edge_seconds');
    h.record(0.5);
    h.record(1.5);
    const series = [...s.families.find((f) => f.def.name === 'edge_seconds')!.series][0] as { count: number };
    series.count = 5;
    const out = lines(await storeTextExposition(s));
    expect(out).to.include.members([
      'edge_seconds_bucket{le="1"} 1',
      'edge_seconds_bucket{le="2"} 2',
      'edge_seconds_bucket{le="+Inf"} 5',
      'edge_seconds_count 5',
    ]);
  });

  it('_created only when asked for, and only in OpenMetrics', async () => {
    const s = newStore();
    s.counter('edge_total').add(1, { k: 'a' });
    s.histogram('edge_seconds').record(1);
    const created = (b: Buffer) => lines(b).filter((l) => l.includes('_created'));
    expect(created(await storeTextExposition(s, { format: 'openmetrics' }))).to.deep.equal([]);
    expect(created(await storeTextExposition(s, { format: 'openmetrics', withCreated: false }))).to.deep.equal([]);
    expect(created(await storeTextExposition(s, { withCreated: true }))).to.deep.equal([]);
    const asked = created(await storeTextExposition(s, { format: 'openmetrics', withCreated: true }));
    expect(asked.map((l) => l.split(' ')[0])).to.deep.equal(['edge_created{k="a"}', 'edge_seconds_created']);
  });

  it('a piece without its header has no HELP or TYPE; with it, the family header comes first', () => {
    const s = newStore();
    s.counter('edge_total').add(3, { k: 'a' });
    const f = s.families.find((x) => x.def.name === 'edge_total')!;
    const bare = serializeSeriesBytes(f, [...f.series], false, {}, 16).toString();
    expect(bare).to.equal('edge_total{k="a"} 3\n');
    const headed = serializeSeriesBytes(f, [...f.series], true, {}, 16).toString();
    expect(headed.startsWith('# HELP edge_total a counter\n# TYPE edge_total counter\n')).to.equal(true);
    expect(headed.endsWith(bare)).to.equal(true);
  });

  it('a series that cannot be written is left out (its family header stays); with no one to tell, it rejects the whole serialization', async () => {
    const s = newStore();
    s.counter('edge_total').add(1, { k: 'a' });
    const series = [...s.families.find((f) => f.def.name === 'edge_total')!.series][0] as { labelValues: unknown };
    Object.defineProperty(series, 'labelValues', {
      get() {
        throw new Error('unwritable');
      },
    });
    const failed: [string, number | undefined][] = [];
    const out = await storeTextExposition(s, { familyFailed: (name, _err, series) => failed.push([name, series]) });
    expect(failed).to.deep.equal([['edge_total', 1]]);
    expect(out.toString()).to.not.include('edge_total{');
    expect(out.toString()).to.include('# TYPE edge_total counter\n# HELP edge_level');
    expect(out.toString()).to.include('edge_level 0');
    const err = await storeTextExposition(newStoreWith(series)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal('unwritable');
  });

  it('a family whose own part cannot be written (its header) is left out whole, plain and gzip alike', async () => {
    const s = newStore();
    s.counter('edge_total').add(1, { k: 'a' });
    s.histogram('edge_seconds').record(1);
    const f = s.families.find((x) => x.def.name === 'edge_total')!;
    Object.defineProperty(f, 'def', {
      value: {
        ...f.def,
        get description(): string {
          throw new Error('no header');
        },
      },
    });
    const failed: [string, number | undefined][] = [];
    const opts = { familyFailed: (name: string, _err: unknown, series?: number) => failed.push([name, series]) };
    const out = await storeTextExposition(s, opts);
    expect(out.toString()).to.not.include('edge_total');
    expect(out.toString()).to.include('edge_seconds_count 1');
    expect(gunzipSync(Buffer.concat(await gzipStoreMembers(s, opts, ''))).equals(out)).to.equal(true);
    expect(failed).to.deep.equal([
      ['edge_total', undefined],
      ['edge_total', undefined],
    ]);
  });
});

describe('core: text writer edges, issue 26 (buffers too small to start with, exemplars the store did not check)', () => {
  const TRACE = '0af7651916cd43dd8448eb211c80319c';
  const SPAN = 'b7ad6b7169203331';
  const family = (s: MetricStore, name: string) => s.families.find((x) => x.def.name === name)!;
  /** The histogram's one series, with an exemplar on every bucket. */
  function withExemplars(s: MetricStore, traceId = TRACE, spanId = SPAN) {
    s.histogram('edge_seconds').record(0.5);
    const series = [...family(s, 'edge_seconds').series][0] as { exemplars: unknown[] };
    series.exemplars = [0.5, 1.5, 3].map((value) => ({ traceId, spanId, value, timestamp: 1_700_000_000_123 }));
    return series;
  }

  it('a piece written into a scratch buffer too small for even its first bytes grows it (histogram, gauge)', () => {
    const s = newStore();
    s.histogram('edge_seconds').record(0.5);
    const h = family(s, 'edge_seconds');
    const want = 'edge_seconds_bucket{le="1"} 1\nedge_seconds_bucket{le="2"} 1\nedge_seconds_bucket{le="+Inf"} 1\n';
    expect(serializeSeriesBytes(h, [...h.series], false, {}, 0, Buffer.alloc(1)).toString()).to.equal(
      `${want}edge_seconds_sum 0.5\nedge_seconds_count 1\n`,
    );
    // 'edge_level ' takes 11 of the 33 bytes its text reserved: a 24-character value needs the number's own reserve.
    s.gauge('edge_level').set(-Number.MAX_VALUE);
    const g = family(s, 'edge_level');
    expect(serializeSeriesBytes(g, [...g.series], false, {}, 0, Buffer.alloc(33)).toString()).to.equal(
      'edge_level -1.7976931348623157e+308\n',
    );
  });

  it('OpenMetrics bucket exemplars fit whatever room the scratch buffer had', () => {
    const s = newStore();
    withExemplars(s);
    const h = family(s, 'edge_seconds');
    const whole = serializeSeriesBytes(h, [...h.series], false, { format: 'openmetrics' }, 0).toString();
    expect(whole).to.include(
      `edge_seconds_bucket{le="1"} 1 # {trace_id="${TRACE}",span_id="${SPAN}"} 0.5 1700000000.123`,
    );
    for (let size = 1; size <= whole.length; size += 7) {
      const into = Buffer.alloc(size);
      expect(
        serializeSeriesBytes(h, [...h.series], false, { format: 'openmetrics' }, 0, into).toString(),
        `${size}`,
      ).to.equal(whole);
    }
  });

  it('an exemplar whose trace id or span id is not valid is not written (the writer does not rely on the store)', () => {
    for (const [traceId, spanId] of [
      ['xyz', SPAN],
      [TRACE, 'not-a-span-id!!!'],
      ['0'.repeat(32), SPAN],
    ]) {
      const s = newStore();
      withExemplars(s, traceId, spanId);
      const h = family(s, 'edge_seconds');
      const out = serializeSeriesBytes(h, [...h.series], false, { format: 'openmetrics' }, 64).toString();
      expect(out, `${traceId} ${spanId}`).to.not.include(' # {');
      expect(out).to.include('edge_seconds_bucket{le="1"} 1\n');
    }
  });

  it('a body without a tail ends with the last series line', async () => {
    const s = newStore();
    s.counter('edge_total').add(2, { k: 'a' });
    const body = (await storeTextExposition(s)).toString();
    expect(body.endsWith('edge_seconds_count 0\n'), body.slice(-80)).to.equal(true);
  });
});

/** A store whose edge_total series is `series` (its label text cannot be read). */
function newStoreWith(series: object): MetricStore {
  const s = newStore();
  const f = s.families.find((x) => x.def.name === 'edge_total')!;
  (f.series as unknown as Set<object>).add(series);
  return s;
}
