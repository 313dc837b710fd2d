import { expect } from 'chai';
import http from 'node:http';
import { expectConsistentHistograms, expectPromtoolParses, samplesOfText, startReady } from '../helpers/index.js';

/*
 * Text bodies are written into again once no response holds them (body-leases.ts). Hostile and slow readers at once
 * (clients that hang up mid-body, clients that stop reading for a while) while recording goes on: every body a
 * reader got whole is one render's, intact (parses, no duplicate series, histograms consistent, every series there).
 */

const HIST = 'tuist_storage_get_object_size_size_bytes';
const COUNTER = 'tuist_storage_get_object_size_count';
const SERIES = 10_000;
/** Enough for a body of about 11 MB: more than the socket buffers take, so a stalled reader holds the body. */
const HIST_SERIES = 5000;
const key = (i: number) => `projects/acme/app/cache/${i}.zip`;

type Reader = 'whole' | 'hang-up' | 'slow';

/** One plain text scrape read as `how` says; the body for `whole` and `slow`, undefined for `hang-up`. */
function read(url: string, how: Reader): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (how === 'hang-up') {
          req.destroy();
          resolve(undefined);
        } else if (how === 'slow' && chunks.length === 1) {
          res.pause();
          setTimeout(() => res.resume(), 300);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (err) => (how === 'hang-up' ? resolve(undefined) : reject(err)));
    });
    req.on('error', (err) => (how === 'hang-up' ? resolve(undefined) : reject(err)));
  });
}

describe('core: text bodies written into again, with readers that hang up or stall mid-body', function () {
  this.timeout(120_000);

  it('every body read whole is intact: it parses, has every series once and consistent histograms', async function () {
    const t = await startReady({
      highCardinalityLabels: ['object_key'],
      maxLabelValues: 20_000,
      maxSeriesPerMetric: 20_000,
    });
    const h = t.store.histogram(HIST);
    const c = t.store.counter(COUNTER);
    let n = 0;
    const touch = (s: number): void => {
      h.record((n * 7919) % 200_000_000, { object_key: key(s % HIST_SERIES) });
      c.add(1, { object_key: key(s) });
    };
    for (; n < SERIES; n++) touch(n);
    let recording = true;
    const recorder = (async () => {
      while (recording) {
        for (let i = 0; i < 200; i++, n++) touch(n % 500);
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const readers: Reader[] = ['slow', 'hang-up', 'whole', 'slow', 'hang-up', 'slow'];
      let checked = 0;
      for (let round = 0; round < 3; round++) {
        // Staggered: some join a render in progress, some start the next one while others still hold a body.
        const bodies = await Promise.all(
          readers.map((how, i) => new Promise((r) => setTimeout(r, i * 60)).then(() => read(t.url!, how))),
        );
        for (const [i, body] of bodies.entries()) {
          if (body === undefined) continue;
          const what = `round ${round} reader ${i} (${readers[i]})`;
          const text = body.toString('utf8');
          expect(text.endsWith('\n'), what).to.equal(true);
          // The body of one render, whole: every series once (a duplicate throws), histograms consistent.
          const samples = samplesOfText(text);
          expect([...samples.keys()].filter((k) => k.startsWith(`${COUNTER}{`)).length, what).to.equal(SERIES);
          expect(expectConsistentHistograms(samples, what), what).to.be.at.least(HIST_SERIES);
          if (checked++ === 0) expectPromtoolParses(this, text);
        }
      }
      expect(checked).to.equal(3 * 4);
    } finally {
      recording = false;
      await recorder;
      await t.shutdown();
    }
  });
});
