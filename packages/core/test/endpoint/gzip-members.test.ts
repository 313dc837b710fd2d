import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { gunzipSync } from 'node:zlib';
import { startPrometheus } from '@tuist-telemetry/testing';
import type { Telemetry, TelemetryOptions } from '@tuist-telemetry/core';
import { gzipBody, gzipStoreMembers } from '../../src/prometheus/compress.js';
import { storeTextExposition } from '../../src/prometheus/serialize.js';
import type { MetricStore } from '../../src/store/store.js';
import {
  requirePrometheus,
  get,
  send,
  startReady,
  keepingLogger,
  expectPromtoolParses,
  expectStrictOpenMetrics,
} from '../helpers/index.js';

/** Telemetry whose storage metrics take many object keys (large bodies, many gzip members). */
const start = (options: TelemetryOptions = {}): Promise<Telemetry> =>
  startReady({
    highCardinalityLabels: ['object_key'],
    maxLabelValues: 10_000,
    maxSeriesPerMetric: 10_000,
    ...options,
  });

const HIST = 'tuist_storage_get_object_size_size_bytes';
const COUNTER = 'tuist_storage_get_object_size_count';
const key = (i: number) => `projects/acme/app/cache/${i}.zip`.padEnd(80, 'x');

function fill(t: Telemetry, from: number, to: number): void {
  const h = t.store.histogram(HIST);
  const c = t.store.counter(COUNTER);
  for (let i = from; i < to; i++) {
    h.record(i, { object_key: key(i) });
    c.add(1, { object_key: key(i) });
  }
}

describe('core: gzip scrapes as gzip members (issue 22 item 1)', () => {
  it('a multi-member body decodes to exactly the plain body, for text, OpenMetrics and protobuf', async () => {
    const t = await start();
    try {
      fill(t, 0, 3000);
      for (const accept of [
        undefined,
        'application/openmetrics-text;version=1.0.0',
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
      ]) {
        const h: Record<string, string> = accept ? { Accept: accept } : {};
        const plain = await get(t.url!, h);
        const zipped = await get(t.url!, { ...h, 'Accept-Encoding': 'gzip' });
        expect(zipped.headers['content-encoding']).to.equal('gzip');
        expect(zipped.headers['content-type']).to.equal(plain.headers['content-type']);
        // Members are written as they are compressed: chunked, or with a Content-Length when all were in already.
        if (zipped.headers['content-length'] === undefined)
          expect(zipped.headers['transfer-encoding']).to.equal('chunked');
        else expect(Number(zipped.headers['content-length'])).to.equal(zipped.body.length);
        expect(gunzipSync(zipped.body).equals(plain.body), accept ?? 'text').to.equal(true);
      }
    } finally {
      await t.shutdown();
    }
  });

  it('a scrape that asks for an escaping= scheme gets that scheme gzipped (not the cached pieces of another)', async () => {
    const t = await start();
    try {
      fill(t, 0, 100);
      t.meterProvider.getMeter('app').createCounter('app.dotted.requests').add(3, { 'http.route': '/a' });
      for (const accept of [
        'text/plain;version=1.0.0;escaping=allow-utf-8',
        'application/openmetrics-text;version=1.0.0;escaping=dots',
      ]) {
        const plain = await get(t.url!, { Accept: accept });
        const zipped = await get(t.url!, { Accept: accept, 'Accept-Encoding': 'gzip' });
        expect(zipped.headers['content-encoding']).to.equal('gzip');
        expect(zipped.headers['content-type']).to.equal(plain.headers['content-type']).and.to.contain('escaping=');
        expect(gunzipSync(zipped.body).toString(), accept).to.equal(plain.body.toString());
      }
    } finally {
      await t.shutdown();
    }
  });

  it('the members cut the body between pieces of series and each is a whole gzip member', async () => {
    const t = await start();
    try {
      fill(t, 0, 3000);
      const store = (t as unknown as { store: MetricStore }).store;
      const members = await gzipStoreMembers(store, {}, 'tail 1\n');
      expect(members.length).to.be.greaterThan(10);
      const parts = members.map((m) => gunzipSync(m));
      expect(Buffer.concat(parts).equals(await storeTextExposition(store, {}, 'tail 1\n'))).to.equal(true);
      expect(parts.at(-1)!.toString()).to.equal('tail 1\n');
    } finally {
      await t.shutdown();
    }
  });

  it('reuses the members of unchanged pieces and renders changed, new and fewer-series pieces anew', async () => {
    const t = await start();
    try {
      fill(t, 0, 3000);
      const store = (t as unknown as { store: MetricStore }).store;
      const first = await gzipStoreMembers(store, {}, '');
      const again = await gzipStoreMembers(store, {}, '');
      expect(again.length).to.equal(first.length);
      // Nothing changed: every catalog member is the very same buffer (the tail is compressed each time).
      for (let i = 0; i < first.length - 1; i++) expect(again[i], `member ${i}`).to.equal(first[i]);
      // One histogram series in the middle and one counter series change; a new series is added at the end.
      t.store.histogram(HIST).record(5, { object_key: key(1500) });
      t.store.counter(COUNTER).add(2, { object_key: key(10) });
      fill(t, 3000, 3001);
      const changed = await gzipStoreMembers(store, {}, '');
      const plain = await storeTextExposition(store, {}, '');
      expect(gunzipSync(Buffer.concat(changed)).equals(plain)).to.equal(true);
      const reused = changed.filter((m) => first.includes(m)).length;
      const renewed = changed.length - 1 - reused;
      // The changed pieces (and the last piece of each family, which gained a series) only.
      expect(renewed).to.be.within(2, 4);
      // A different format has its own pieces.
      const om = await gzipStoreMembers(store, { format: 'openmetrics' }, '# EOF\n');
      expect(om.some((m) => first.includes(m) || changed.includes(m))).to.equal(false);
      expect(
        gunzipSync(Buffer.concat(om)).equals(await storeTextExposition(store, { format: 'openmetrics' }, '# EOF\n')),
      ).to.equal(true);
    } finally {
      await t.shutdown();
    }
  });

  it('changes between HTTP scrapes arrive: every gzip scrape decodes to the plain scrape taken right after it', async () => {
    const t = await start();
    try {
      fill(t, 0, 2000);
      for (let round = 0; round < 4; round++) {
        const zipped = await get(t.url!, { 'Accept-Encoding': 'gzip' });
        const plain = await get(t.url!);
        expect(gunzipSync(zipped.body).equals(plain.body), `round ${round}`).to.equal(true);
        // Some series change, some are added.
        for (let i = round; i < 2000; i += 97) t.store.histogram(HIST).record(round * 1000, { object_key: key(i) });
        fill(t, 2000 + round * 10, 2010 + round * 10);
      }
    } finally {
      await t.shutdown();
    }
  });

  it('HEAD with gzip accepted answers the plain length and no body; empty bodies still make a valid gzip stream', async () => {
    const t = await start();
    try {
      const plain = await get(t.url!);
      const head = await send(t.url!, { headers: { 'Accept-Encoding': 'gzip' }, method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.body.length).to.equal(0);
      expect(head.headers['content-encoding']).to.equal(undefined);
      expect(Number(head.headers['content-length'])).to.equal(plain.body.length);
    } finally {
      await t.shutdown();
    }
    const none = await gzipStoreMembers({ families: [] } as unknown as MetricStore, {}, '');
    expect(none.length).to.equal(1);
    expect(gunzipSync(Buffer.concat(none)).length).to.equal(0);
    const empty = await gzipBody(Buffer.alloc(0));
    expect(gunzipSync(Buffer.concat(empty)).length).to.equal(0);
    const big = Buffer.alloc(300_000, 'a');
    const cut = await gzipBody(big);
    expect(cut.length).to.be.greaterThan(1);
    expect(gunzipSync(Buffer.concat(cut)).equals(big)).to.equal(true);
  });
});

describe('core: a series that cannot be written is left out of a gzip scrape too, the rest of its family is served, and it comes back', () => {
  it('OpenMetrics with gzip: served without the series (as the plain scrape), counted, then with it once it can be written', async function () {
    const { logger, errors } = keepingLogger();
    diag.setLogger(logger, DiagLogLevel.WARN);
    const t = await start();
    try {
      fill(t, 0, 500);
      const om = { Accept: 'application/openmetrics-text;version=1.0.0', 'Accept-Encoding': 'gzip' };
      const before = gunzipSync((await get(t.url!, om)).body).toString();
      expect(before).to.contain(`\n${HIST}_sum{object_key="${key(300)}"} 300\n`);
      const series = [...t.store.histogram(HIST).series][300]!;
      const sum = series.sum;
      Object.defineProperty(series, 'sum', {
        configurable: true,
        get: () => {
          throw new TypeError('corrupt series');
        },
      });
      const during = gunzipSync((await get(t.url!, om)).body).toString();
      // Not a line of the corrupt series (its bucket lines come before the sum that throws: taken back too) ...
      expect(during).not.to.contain(`${HIST}_bucket{object_key="${key(300)}"`);
      expect(during).not.to.contain(`${HIST}_sum{object_key="${key(300)}"}`);
      expect(during).not.to.contain(`${HIST}_count{object_key="${key(300)}"}`);
      // ... and every other series of its family, the ones next to it included.
      for (const i of [0, 299, 301, 499]) {
        expect(during).to.contain(`\n${HIST}_sum{object_key="${key(i)}"} ${i}\n`);
        expect(during).to.contain(`\n${HIST}_bucket{object_key="${key(i)}",le="+Inf"} 1\n`);
      }
      expect(during.match(new RegExp(`^${HIST}_count\\{`, 'gm'))).to.have.length(499);
      expect(during).to.contain(`\n${COUNTER}{object_key="${key(300)}"} 1\n`);
      expect(during).to.contain(`\ntuist_telemetry_render_errors_total{metric="${HIST}"} 1\n`);
      expect(during.endsWith('# EOF\n')).to.equal(true);
      expectStrictOpenMetrics(during);
      expectPromtoolParses(this, during);
      // The plain scrape right after it is the same body (but for the render error counted once more).
      const plain = (await get(t.url!, { Accept: om.Accept })).body.toString();
      expect(plain).to.contain(`\ntuist_telemetry_render_errors_total{metric="${HIST}"} 2\n`);
      const counted = /\ntuist_telemetry_render_errors_total\{metric="[^"]+"\} \d+\n/;
      expect(plain.replace(counted, '\n')).to.equal(during.replace(counted, '\n'));
      // One diag error (rate-limited), which says a series was left out, not the metric.
      expect(errors.filter((e) => e.includes(HIST))).to.have.length(1);
      expect(errors.find((e) => e.includes(HIST)))
        .to.contain(`1 series of metric "${HIST}"`)
        .and.contain('corrupt series');
      Object.defineProperty(series, 'sum', { configurable: true, writable: true, enumerable: true, value: sum });
      const after = gunzipSync((await get(t.url!, om)).body);
      expect(after.toString()).to.contain(`\n${HIST}_sum{object_key="${key(300)}"} 300\n`);
      const plainAfter = await get(t.url!, { Accept: om.Accept });
      expect(after.equals(plainAfter.body)).to.equal(true);
    } finally {
      await t.shutdown();
      diag.disable();
    }
  });
});

describe('core: a real Prometheus scrapes a gzipped multi-member body (issue 22 item 1)', function () {
  this.timeout(90_000);

  it('stores every series of a body of many gzip members, and the changes of later scrapes', async function () {
    requirePrometheus(this);
    const t = await start();
    fill(t, 0, 3000);
    const prom = await startPrometheus({ targets: [`127.0.0.1:${t.port}`], scrapeIntervalSeconds: 2 });
    try {
      const count = async (q: string) => Number((await prom.vector(q))[0]?.value[1] ?? NaN);
      // Polled: the target is up before its first samples are queryable.
      const eventually = async (q: string, expected: number) => {
        const deadline = Date.now() + 30_000;
        let seen = await count(q);
        while (seen !== expected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          seen = await count(q);
        }
        return seen;
      };
      expect(await eventually(`count(${HIST}_count)`, 3000)).to.equal(3000);
      expect(await eventually(`count(${COUNTER})`, 3000)).to.equal(3000);
      // Changed after the first scrapes: a later scrape (served from changed and reused members) carries it.
      t.store.counter(COUNTER).add(41, { object_key: key(2500) });
      expect(await eventually(`${COUNTER}{object_key="${key(2500)}"}`, 42)).to.equal(42);
      expect(await count(`sum(${COUNTER})`)).to.equal(3041);
      expect(await count(`sum(${HIST}_count)`)).to.equal(3000);
    } finally {
      await prom.stop();
      await t.shutdown();
    }
  });
});
