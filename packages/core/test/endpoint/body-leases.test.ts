import { expect } from 'chai';
import type { DiagLogger } from '@opentelemetry/api';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { MetricsEndpoint } from '../../src/prometheus/endpoint.js';
import { LOCAL_ENDPOINT } from '../helpers/index.js';
import { PrometheusRenderer } from '../../src/prometheus/render.js';

const HIST = 'tuist_storage_get_object_size_size_bytes';

/** Until `cond` holds, letting the event loop run (the test's timeout fails it otherwise; nothing is timed). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

function get(port: number, headers: Record<string, string> = {}, method = 'GET'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, path: '/metrics', method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
      .on('error', reject)
      .end();
  });
}

describe('core: the buffer of a text body is written into again only once no response holds it (issue 22 item 1)', () => {
  let t: Telemetry;
  let renderer: PrometheusRenderer;
  let logged: string[];
  beforeEach(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: 10_000,
      maxSeriesPerMetric: 10_000,
    });
    await t.ready();
    logged = [];
    const keep = (...args: unknown[]) => logged.push(args.map(String).join(' '));
    const logger: DiagLogger = { error: keep, warn: keep, info() {}, debug() {}, verbose() {} };
    renderer = new PrometheusRenderer({
      withScopeLabels: false,
      withTargetInfo: false,
      withCreated: false,
      store: t.store,
      resource: t.resource,
      scope: { name: 'test', version: '0' },
      reader: undefined,
      canCollect: () => false,
      warnings: new RateLimitedLogger(logger),
    });
    // About 2 MB of text: big enough for its buffer to be kept for the next render.
    const h = t.store.histogram(HIST);
    for (let i = 0; i < 1000; i++) h.record(i, { object_key: `projects/acme/app/cache/${i}.zip`.padEnd(80, 'x') });
  });
  afterEach(async () => {
    await t.shutdown();
    expect(logged).to.deep.equal([]);
  });

  it('a body a response still holds is left as it is; once released, the next render writes into its buffer', async () => {
    const first = await renderer.renderForResponse('text');
    expect(first.length).to.be.above(1 << 20);
    const copy = Buffer.from(first);
    t.store.histogram(HIST).record(5, { object_key: 'changed' });
    const second = await renderer.renderForResponse('text');
    expect(second.buffer).to.not.equal(first.buffer);
    expect(first.equals(copy)).to.equal(true);
    expect(second.toString()).to.contain('object_key="changed"');

    renderer.release(second);
    t.store.histogram(HIST).record(6, { object_key: 'again' });
    const third = await renderer.renderForResponse('text');
    expect(third.buffer).to.equal(second.buffer);
    expect(third.toString()).to.contain('object_key="again"');
    // What the renderer serves is still exactly the exposition.
    expect(third.equals(await renderer.render('text'))).to.equal(true);
  });

  it('a body someone else got through render() is never written into again, even when its responses released it', async () => {
    const [leased, pinned] = await Promise.all([renderer.renderForResponse('text'), renderer.render('text')]);
    expect(leased).to.equal(pinned);
    const copy = Buffer.from(pinned);
    renderer.release(leased);
    t.store.histogram(HIST).record(5, { object_key: 'changed' });
    const next = await renderer.renderForResponse('text');
    expect(next.buffer).to.not.equal(pinned.buffer);
    expect(pinned.equals(copy)).to.equal(true);
  });

  it('the endpoint releases every body it got, once, for GET, HEAD, a gzip stream and a scraper that left', async () => {
    const body = Buffer.from('a 1\n');
    let rendered = 0;
    const released: Buffer[] = [];
    const e = new MetricsEndpoint({
      ...LOCAL_ENDPOINT,
      render: async () => {
        rendered++;
        return body;
      },
      release: (b) => released.push(b),
      onRenderError: () => {},
    });
    try {
      const { port } = await e.listening;
      expect((await get(port)).toString()).to.equal('a 1\n');
      expect((await get(port, {}, 'HEAD')).length).to.equal(0);
      expect(gunzipSync(await get(port, { 'Accept-Encoding': 'gzip' })).toString()).to.equal('a 1\n');
      // A scraper that goes away before the body is written.
      await new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/metrics', agent: false });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.end(() => setImmediate(() => req.destroy()));
      });
      await until(() => rendered === 4 && released.length === 4);
      expect(released.every((b) => b === body)).to.equal(true);
    } finally {
      await e.close();
    }
  });
});
