import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import type { Telemetry } from '@tuist-telemetry/core';
import {
  expectStrictOpenMetrics,
  expectPromtoolParses,
  expectConsistentHistograms,
  samplesOfText,
  decodeFamilies,
  get,
  PROMETHEUS_PROTOBUF_ACCEPT,
  protobufSamples,
  startReady,
} from '../helpers/index.js';

/*
 * Scrapes of every format at once while the gzip piece cache fills and recording goes on (a hostile or just busy
 * set of scrapers): every body decodes, parses strictly, and is self-consistent; once recording stops, every gzip
 * body decodes to exactly its plain body (no stale cached piece).
 */

const HIST = 'tuist_storage_get_object_size_size_bytes';
const COUNTER = 'tuist_storage_get_object_size_count';
const SERIES = 10_000; // the counter's; the histogram has HIST_SERIES (each with its 16 buckets: about 30k lines)
const HIST_SERIES = 1000;
const ROUNDS = 3;
const key = (i: number) => `projects/acme/app/cache/${i}.zip`;
const OPENMETRICS = 'application/openmetrics-text;version=1.0.0';

const SCRAPES = {
  'text+gzip': { 'Accept-Encoding': 'gzip' },
  'openmetrics+gzip': { Accept: OPENMETRICS, 'Accept-Encoding': 'gzip' },
  'protobuf+gzip': { Accept: PROMETHEUS_PROTOBUF_ACCEPT, 'Accept-Encoding': 'gzip' },
  text: {},
  'underscores+gzip': { Accept: 'text/plain;version=1.0.0;escaping=underscores', 'Accept-Encoding': 'gzip' },
  underscores: { Accept: 'text/plain;version=1.0.0;escaping=underscores' },
  // Deno's fetch reads one gzip member only: its scrapes get the shared text body through one gzip stream.
  'deno+gzip': { 'Accept-Encoding': 'gzip', 'User-Agent': 'Deno/2.9.6' },
} as const satisfies Record<string, Record<string, string>>;
type Kind = keyof typeof SCRAPES;

async function scrape(t: Telemetry, kind: Kind): Promise<{ kind: Kind; body: Buffer; type: string }> {
  const r = await get(t.url!, SCRAPES[kind]);
  expect(r.status, kind).to.equal(200);
  const zipped = r.headers['content-encoding'] === 'gzip';
  expect(zipped, `${kind}: gzip as asked`).to.equal(kind.endsWith('+gzip'));
  return { kind, body: zipped ? gunzipSync(r.body) : r.body, type: String(r.headers['content-type']) };
}

describe('core: concurrent scrapes of every format while the gzip piece cache fills and recording goes on', function () {
  this.timeout(120_000);

  it('every body decodes, parses strictly and is self-consistent; once recording stops each gzip body is its plain body', async function () {
    const t = await startReady({
      highCardinalityLabels: ['object_key'],
      maxLabelValues: 20_000,
      maxSeriesPerMetric: 20_000,
    });
    const h = t.store.histogram(HIST);
    const c = t.store.counter(COUNTER);
    const app = t.meterProvider.getMeter('app');
    const dotted = app.createCounter('app.dotted.requests');
    const appHist = app.createHistogram('app.latency', { unit: 's' });
    let n = 0;
    let created = 0;
    const touch = (s: number): void => {
      h.record((n * 7919) % 200_000_000, { object_key: key(s % HIST_SERIES) });
      c.add(1, { object_key: key(s) });
      dotted.add(1, { 'http.route': `/r/${n % 50}` });
      appHist.record((n % 1000) / 100, { route: `/r/${n % 20}` });
    };
    // Half the series exist before the first scrape; during the rounds a few new ones arrive and a hot set changes,
    // so the cache serves unchanged pieces, renders changed ones and adds new ones, all at once.
    for (; created < SERIES / 2; created++, n++) touch(created);
    const record = (count: number): void => {
      for (let i = 0; i < count; i++, n++) touch(i % 32 === 0 && created < SERIES ? created++ : n % 300);
    };
    let recording = true;
    const recorder = (async () => {
      while (recording) {
        record(200);
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const kinds = Object.keys(SCRAPES) as Kind[];
      let histograms = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const bodies = await Promise.all([...kinds, ...kinds].map((k) => scrape(t, k)));
        const parsed = new Set<Kind>();
        for (const { kind, body, type } of bodies) {
          const what = `round ${round} ${kind}`;
          if (kind === 'protobuf+gzip') {
            expect(type, what).to.contain('application/vnd.google.protobuf');
            histograms += expectConsistentHistograms(protobufSamples(decodeFamilies(body)), what);
            continue;
          }
          const text = body.toString('utf8');
          if (kind === 'openmetrics+gzip') expectStrictOpenMetrics(text);
          else if (!parsed.has(kind)) expectPromtoolParses(this, text); // promtool once per format and round: slow
          parsed.add(kind);
          histograms += expectConsistentHistograms(samplesOfText(text), what);
          if (kind.startsWith('underscores')) expect(text, what).to.contain('app_dotted_requests');
        }
      }
      expect(histograms, 'histogram series checked').to.be.at.least(ROUNDS * 2 * kinds.length * HIST_SERIES);
      expect(created, 'series added during the rounds').to.be.greaterThan(SERIES / 2);
      recording = false;
      await recorder;
      // Nothing records now: each gzip body is exactly the plain body of its format (the cache holds no stale piece).
      for (const [zipped, plain] of [
        ['text+gzip', {}],
        ['openmetrics+gzip', { Accept: OPENMETRICS }],
        ['protobuf+gzip', { Accept: PROMETHEUS_PROTOBUF_ACCEPT }],
        ['underscores+gzip', { Accept: 'text/plain;version=1.0.0;escaping=underscores' }],
        ['deno+gzip', {}],
      ] as const) {
        const [a, b] = await Promise.all([scrape(t, zipped), get(t.url!, plain)]);
        expect(a.body.equals(b.body), zipped).to.equal(true);
      }
    } finally {
      recording = false;
      await recorder;
      await t.shutdown();
    }
  });
});
