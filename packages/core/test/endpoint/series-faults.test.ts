import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import type { Telemetry } from '@tuist-telemetry/core';
import { gzipStoreMembers } from '../../src/prometheus/compress.js';
import { MemberStream } from '../../src/prometheus/gzip-stream.js';
import { storeTextExposition, type SerializeOptions } from '../../src/prometheus/serialize.js';
import type { MetricStore, Series } from '../../src/store/store.js';
import { expectPromtoolParses, expectStrictOpenMetrics, startReady } from '../helpers/index.js';

/*
 * The unit a scrape leaves out when it cannot be written is a series, not its family (text 0.0.4 and OpenMetrics,
 * plain and gzip alike): the other series of the family are served, the plain and the gzip body stay the same, and a
 * gzip piece rendered without a series is not kept. Protobuf keeps its per-family rule (scrape-isolation.test.ts).
 */

const HIST = 'tuist_storage_get_object_size_size_bytes';
const COUNTER = 'tuist_storage_get_object_size_count';
const key = (i: number) => `projects/acme/app/cache/${i}.zip`.padEnd(80, 'x');

const start = (): Promise<Telemetry> =>
  startReady({ highCardinalityLabels: ['object_key'], maxLabelValues: 10_000, maxSeriesPerMetric: 10_000 });

function fill(t: Telemetry, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    t.store.histogram(HIST).record(i, { object_key: key(i) });
    t.store.counter(COUNTER).add(1, { object_key: key(i) });
  }
}

/** Makes `field` of `series` throw when read, until the returned function puts its value back. */
function corrupt(series: Series, field: string): () => void {
  const value = (series as unknown as Record<string, unknown>)[field];
  Object.defineProperty(series, field, {
    configurable: true,
    get: () => {
      throw new TypeError(`corrupt ${field}`);
    },
  });
  return () => Object.defineProperty(series, field, { configurable: true, writable: true, enumerable: true, value });
}

/** Options that keep what the writer reports: [family, series left out, message of the first error]. */
function reporting(format: SerializeOptions['format']): { opts: SerializeOptions; told: [string, unknown, string][] } {
  const told: [string, unknown, string][] = [];
  return {
    told,
    opts: { format, familyFailed: (name, err, series) => told.push([name, series, (err as Error).message]) },
  };
}

const gunzipAll = (members: Buffer[]) => gunzipSync(Buffer.concat(members));

describe('core: a series that cannot be written is left out, not its family (text formats, plain and gzip)', () => {
  let t: Telemetry;
  let store: MetricStore;
  beforeEach(async () => {
    t = await start();
    store = (t as unknown as { store: MetricStore }).store;
  });
  afterEach(() => t.shutdown());

  for (const format of ['text', 'openmetrics'] as const) {
    it(`${format}: corrupt series in the middle of a histogram and of a counter family: the same body plain and gzip, the rest of both families served`, async function () {
      fill(t, 0, 1000);
      const hs = [...t.store.histogram(HIST).series];
      const cs = [...t.store.counter(COUNTER).series];
      // Bucket counts (not among the values the gzip cache compares), a sum in another gzip piece, a counter's value.
      const restore = [corrupt(hs[400]!, 'counts'), corrupt(hs[900]!, 'sum'), corrupt(cs[700]!, 'value')];
      const tail = format === 'openmetrics' ? '# EOF\n' : '';
      const plain = reporting(format);
      const body = await storeTextExposition(store, plain.opts, tail);
      const zipped = reporting(format);
      const members = await gzipStoreMembers(store, zipped.opts, tail);
      expect(gunzipAll(members).equals(body)).to.equal(true);
      const text = body.toString();
      // Not a line of the corrupt series (the lines written before the throw are taken back too).
      for (const i of [400, 900]) {
        for (const suffix of ['_bucket', '_sum', '_count', '_created'])
          expect(text).not.to.contain(`${HIST}${suffix}{object_key="${key(i)}"`);
      }
      expect(text).not.to.contain(`${COUNTER}{object_key="${key(700)}"}`);
      expect(text.match(new RegExp(`^${HIST}_count\\{`, 'gm'))).to.have.length(998);
      expect(text.match(new RegExp(`^${COUNTER}\\{`, 'gm'))).to.have.length(999);
      for (const i of [399, 401, 899, 901]) expect(text).to.contain(`\n${HIST}_sum{object_key="${key(i)}"} ${i}\n`);
      expect(text).to.contain(`\n${COUNTER}{object_key="${key(400)}"} 1\n`);
      // HELP and TYPE once per family.
      expect(text.split(`# TYPE ${HIST} histogram\n`)).to.have.length(2);
      // Told once per family per body, with how many series were left out and the first one's error.
      const expected = [
        [HIST, 2, 'corrupt counts'],
        [COUNTER, 1, 'corrupt value'],
      ];
      expect(plain.told).to.deep.equal(expected);
      expect(zipped.told).to.deep.equal(expected);
      if (format === 'openmetrics') expectStrictOpenMetrics(text);
      expectPromtoolParses(this, text);
      // Back: every series served again, the gzip body (pieces rendered anew) still the plain one.
      for (const r of restore) r();
      const back = await storeTextExposition(store, { format }, tail);
      expect(back.toString().match(new RegExp(`^${HIST}_count\\{`, 'gm'))).to.have.length(1000);
      expect(gunzipAll(await gzipStoreMembers(store, { format }, tail)).equals(back)).to.equal(true);
    });
  }

  it('a gzip piece rendered without a series is not kept: once the series can be written, the next gzip scrape has it', async () => {
    fill(t, 0, 1000);
    // Its bucket counts throw, its count and sum (the values the cache compares) do not change meanwhile.
    const restore = corrupt([...t.store.histogram(HIST).series][500]!, 'counts');
    const line = `\n${HIST}_bucket{object_key="${key(500)}",le="+Inf"} 1\n`;
    const without = gunzipAll(await gzipStoreMembers(store, { familyFailed: () => {} }, '')).toString();
    expect(without).not.to.contain(line);
    restore();
    const first = await gzipStoreMembers(store, { familyFailed: () => {} }, '');
    expect(gunzipAll(first).toString()).to.contain(line);
    expect(gunzipAll(first).equals(await storeTextExposition(store, {}, ''))).to.equal(true);
    // The pieces rendered whole are kept as before: the next scrape reuses every catalog member.
    const again = await gzipStoreMembers(store, { familyFailed: () => {} }, '');
    for (let i = 0; i < first.length - 1; i++) expect(again[i], `member ${i}`).to.equal(first[i]);
  });

  it('a family whose every series is corrupt keeps its HELP and TYPE (a valid body in both formats)', async function () {
    fill(t, 0, 3);
    const restore = [...t.store.histogram(HIST).series].map((s) => corrupt(s, 'sum'));
    for (const format of ['text', 'openmetrics'] as const) {
      const tail = format === 'openmetrics' ? '# EOF\n' : '';
      const { opts, told } = reporting(format);
      const body = await storeTextExposition(store, opts, tail);
      expect(gunzipAll(await gzipStoreMembers(store, opts, tail)).equals(body)).to.equal(true);
      const lines = body
        .toString()
        .split('\n')
        .filter((l) => l.includes(HIST));
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(new RegExp(`^# HELP ${HIST} \\S`));
      expect(lines[1]).to.equal(`# TYPE ${HIST} histogram`);
      expect(told.filter(([name]) => name === HIST)).to.deep.equal([
        [HIST, 3, 'corrupt sum'],
        [HIST, 3, 'corrupt sum'],
      ]);
      if (format === 'openmetrics') expectStrictOpenMetrics(body.toString());
      expectPromtoolParses(this, body.toString());
    }
    for (const r of restore) r();
  });

  it("a family's gzip members go out while the rest of it is still being rendered", async () => {
    fill(t, 0, 3000);
    const out = new MemberStream();
    // What the scraper could have decompressed when the family's last series was about to be rendered.
    let sentBefore = '';
    const last = [...t.store.histogram(HIST).series].at(-1)!;
    const counts = last.counts;
    Object.defineProperty(last, 'counts', {
      configurable: true,
      get: () => {
        if (sentBefore === '') sentBefore = gunzipAll(out.members).toString();
        return counts;
      },
    });
    const members = await gzipStoreMembers(store, {}, '', out);
    expect(gunzipAll(members).equals(await storeTextExposition(store, {}, ''))).to.equal(true);
    // The family's first series was out already (the render waits for the compressors once a few pieces are
    // pending, and a compressed member is handed on at once), not held back until the family was whole.
    expect(sentBefore).to.contain(`\n${HIST}_sum{object_key="${key(0)}"} 0\n`);
    expect(out.members).to.have.length(members.length);
  });
});
