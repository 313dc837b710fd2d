import { expect } from 'chai';
import { MetricStore, RateLimitedLogger, logger, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { storeTextExposition } from '../../src/prometheus/serialize.js';

/**
 * The body in slices (issue 26): the text writer lets the event loop run after about every megabyte it wrote, and
 * only then. A body under a megabyte is written in one go, a snapshot that records made after the scrape began do
 * not reach; a larger one lets the host's other work run about once per megabyte, not after every series.
 */

const SLICE = 1 << 20;
const defs: MetricDefinition[] = [
  { name: 'slice_pad', type: 'gauge', family: 'test', description: 'what comes first', labels: ['k'] },
  { name: 'slice_seconds', type: 'histogram', family: 'test', description: 'a histogram', labels: ['k'], buckets: [1] },
  { name: 'slice_total', type: 'counter', family: 'test', description: 'a counter', labels: ['k'] },
];

function newStore(): MetricStore {
  return new MetricStore(defs, {
    naming: 'docs',
    highCardinality: new Set(),
    enabledHighCardinality: new Set(),
    maxLabelValues: 10_000,
    maxSeriesPerMetric: 10_000,
    warn: new RateLimitedLogger(logger('test')),
  });
}

/** How many turns of the event loop ran while `render` was under way (an immediate that schedules itself again). */
async function turnsDuring<T>(render: () => Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    return { result: await render(), turns };
  } finally {
    done = true;
  }
}

describe('core: the text body in slices of about a megabyte (issue 26)', () => {
  it('a body under a megabyte is written in one go: records made once the scrape began are not in it', async () => {
    const s = newStore();
    const h = s.histogram('slice_seconds');
    const c = s.counter('slice_total');
    const keys = ['a', 'b', 'c'];
    for (const k of keys) {
      h.record(0.5, { k });
      c.add(1, { k });
    }
    const before = (await storeTextExposition(s)).toString();
    const rendering = storeTextExposition(s);
    // What the host records while the scrape is under way: every series moves.
    for (const k of keys) {
      h.record(5, { k });
      c.add(1, { k });
    }
    expect((await rendering).toString()).to.equal(before);
    expect(before).to.include('slice_seconds_bucket{k="c",le="+Inf"} 1\n').and.include('slice_total{k="c"} 1\n');
  });

  for (const kind of ['counter', 'histogram'] as const) {
    it(`a body of ${kind} series over three megabytes lets the event loop run about once per megabyte`, async () => {
      const s = newStore();
      const pad = 'x'.repeat(1000);
      // About 1 KB per counter line; a histogram series is four lines.
      const n = kind === 'counter' ? 3200 : 800;
      for (let i = 0; i < n; i++) {
        const k = `${i}-${pad}`;
        if (kind === 'counter') s.counter('slice_total').add(i, { k });
        else s.histogram('slice_seconds').record(i, { k });
      }
      const { turns, result } = await turnsDuring(() => storeTextExposition(s));
      expect(result.length).to.be.within(3 * SLICE, 4 * SLICE);
      const lines = result.toString().split('\n');
      expect(
        lines.filter((l) => l.startsWith(kind === 'counter' ? 'slice_total{' : 'slice_seconds_count{')),
      ).to.have.length(n);
      // One turn per slice written after the first (3 or 4 for 3 to 4 MB), give or take one.
      expect(turns, `${turns} turns for ${result.length} bytes`).to.be.within(2, 5);
    });
  }

  for (const kind of ['counter', 'histogram'] as const) {
    it(`${kind}s: the slice ends with the series whose last byte is the megabyte's last (at, not after, the boundary)`, async () => {
      // A gauge written first pads the body so that series m ends exactly one megabyte in; the series are all alike.
      const build = (pad: number) => {
        const s = newStore();
        s.gauge('slice_pad').set(1, { k: 'p'.repeat(pad) });
        for (let i = 0; i < 3000; i++) {
          const k = `${String(i).padStart(4, '0')}-${'x'.repeat(kind === 'counter' ? 800 : 150)}`;
          if (kind === 'counter') s.counter('slice_total').add(1, { k });
          else s.histogram('slice_seconds').record(0.5, { k });
        }
        return s;
      };
      /** Where each series of the body ends (the offset after its last line). */
      const seriesEnds = (body: Buffer): number[] => {
        const ends: number[] = [];
        const last = kind === 'counter' ? 'slice_total{' : 'slice_seconds_count{';
        let at = 0;
        for (const line of body.toString('latin1').split('\n')) {
          at += line.length + 1;
          if (line.startsWith(last)) ends.push(at);
        }
        return ends;
      };
      const trial = seriesEnds(await storeTextExposition(build(100)));
      const below = trial.filter((e) => e <= SLICE);
      const s = build(100 + SLICE - below[below.length - 1]!);
      const ends = seriesEnds(await storeTextExposition(s));
      const m = ends.indexOf(SLICE);
      expect(m, 'a series ends at the megabyte').to.be.greaterThan(0);
      const key = (i: number) => [...s.families.find((f) => f.def.type === kind)!.series][i]!.labelValues[0]!;
      const rendering = storeTextExposition(s);
      // Recorded after the first slice: series m is in it as it was, series m + 1 is written after the turn.
      for (const i of [m, m + 1]) {
        if (kind === 'counter') s.counter('slice_total').add(1, { k: key(i) });
        else s.histogram('slice_seconds').record(0.5, { k: key(i) });
      }
      const body = (await rendering).toString('latin1');
      const name = kind === 'counter' ? 'slice_total' : 'slice_seconds_count';
      expect(body).to.include(`\n${name}{k="${key(m)}"} 1\n`);
      expect(body).to.include(`\n${name}{k="${key(m + 1)}"} 2\n`);
    });
  }
});
