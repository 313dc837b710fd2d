import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { startTelemetry } from '@tuist-telemetry/core';
import { MetricsEndpoint, type EndpointLimits } from '../../src/prometheus/endpoint.js';
import { singleFlight } from '../../src/prometheus/render.js';
import { startReady, startLocal, LOCAL_ENDPOINT, within, WAIT_MS } from '../helpers/index.js';

/**
 * A client that sends `GET /metrics` and stops reading. A paused socket cannot see the server hang up, so
 * `drain()` resumes reading (once the server-side assertions are done) and resolves with the bytes it got before
 * the connection ended.
 */
function stalledReader(port: number): { drain: () => Promise<number> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.pause();
  let bytes = 0;
  socket.on('data', (c: Buffer) => (bytes += c.length));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(bytes)));
  return {
    drain: () => {
      socket.resume();
      return within(closed, 'the end of the stalled connection');
    },
  };
}

function get(port: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes }));
      })
      .setTimeout(WAIT_MS, function (this: http.ClientRequest) {
        this.destroy(new Error(`no response from port ${port} within ${WAIT_MS} ms`));
      })
      .on('error', reject);
  });
}

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${cond} still false after ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A render that waits until `open()`: scrapes stay in flight (before their write starts) for as long as a test needs. */
function gated(body: Buffer): { render: () => Promise<Buffer>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return { render: singleFlight(() => gate.then(() => body)), open };
}

/** A body far larger than the loopback socket buffers, so a reader that never reads really stalls the write. */
const BIG = Buffer.alloc(32 * 1024 * 1024, 'x');

async function endpoint(
  limits: Partial<EndpointLimits>,
  render: () => Promise<Buffer>,
  onRenderError: (err: unknown) => void = () => {},
): Promise<{ e: MetricsEndpoint; port: number }> {
  const e = new MetricsEndpoint({
    ...LOCAL_ENDPOINT,
    ...limits,
    render,
    onRenderError,
  });
  return { e, port: (await e.listening).port };
}

describe('core: the endpoint cannot be used to exhaust the host', () => {
  it('closes a reader that never reads once the write timeout passes, and frees its slot', async () => {
    const g = gated(BIG);
    const { e, port } = await endpoint({ writeTimeoutMs: 300 }, g.render);
    try {
      const readers = [stalledReader(port), stalledReader(port)];
      await until(() => e.scrapesInFlight === 2);
      g.open();
      // The server gives up on both (their slots free up) although neither read a byte.
      await until(() => e.scrapesCutOff === 2);
      await until(() => e.scrapesInFlight === 0);
      for (const r of readers) expect(await r.drain()).to.be.lessThan(BIG.length);
    } finally {
      await e.close();
    }
  });

  it('closes a stalled connection once the idle timeout passes', async () => {
    const { e, port } = await endpoint({ idleTimeoutMs: 300 }, async () => BIG);
    try {
      const r = stalledReader(port);
      await until(() => e.scrapesCutOff === 1);
      await until(() => e.scrapesInFlight === 0);
      expect(await r.drain()).to.be.lessThan(BIG.length);
    } finally {
      await e.close();
    }
  });

  it('answers 503 with Retry-After past maxConcurrentScrapes, and serves again once the slots are free', async () => {
    const g = gated(BIG);
    const small = Buffer.from('# TYPE x counter\nx 1\n');
    let stalled = true;
    // The stalled readers get the big body; the scrape after them a small one, so a slow machine cannot make it
    // miss the short write timeout.
    const render = () => (stalled ? g.render() : Promise.resolve(small));
    const { e, port } = await endpoint({ maxConcurrentScrapes: 2, writeTimeoutMs: 300 }, render);
    try {
      const readers = [stalledReader(port), stalledReader(port)];
      await until(() => e.scrapesInFlight === 2);
      const extra = await get(port);
      expect(extra.status).to.equal(503);
      expect(extra.headers['retry-after']).to.equal('1');
      g.open();
      await until(() => e.scrapesCutOff === 2);
      await until(() => e.scrapesInFlight === 0);
      for (const r of readers) expect(await r.drain()).to.be.lessThan(BIG.length);
      stalled = false;
      const ok = await get(port);
      expect(ok.status).to.equal(200);
      expect(ok.bytes).to.equal(small.length);
    } finally {
      await e.close();
    }
  });

  it('20 concurrent scrapes cost one render and all get the same body', async () => {
    let renders = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const body = Buffer.from('# TYPE x counter\nx 1\n');
    const render = singleFlight(async () => {
      renders++;
      await gate;
      return body;
    });
    const { e, port } = await endpoint({ maxConcurrentScrapes: 20 }, render);
    try {
      const scrapes = Array.from({ length: 20 }, () => get(port));
      await until(() => e.scrapesInFlight === 20);
      open();
      const results = await Promise.all(scrapes);
      expect(renders).to.equal(1);
      for (const r of results) {
        expect(r.status).to.equal(200);
        expect(r.bytes).to.equal(body.length);
      }
      // The next scrape renders again (nothing is served stale once the shared render is done).
      await get(port);
      expect(renders).to.equal(2);
    } finally {
      await e.close();
    }
  });
});

describe('core: rendering through the telemetry', () => {
  it('concurrent renderPrometheus() calls run the collection once', async () => {
    const t = startLocal();
    try {
      await t.ready();
      let collections = 0;
      t.store.onCollect(() => collections++);
      const bodies = await Promise.all(Array.from({ length: 20 }, () => t.renderPrometheus()));
      expect(collections).to.equal(1);
      expect(new Set(bodies).size).to.equal(1);
      await t.renderPrometheus();
      expect(collections).to.equal(2);
    } finally {
      await t.shutdown();
    }
  });

  it('a scrape leaves the store as it was: the writer keeps its caches outside the series', async () => {
    const t = startLocal();
    try {
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 5 });
      const state = () => JSON.stringify(t.store.families.map((f) => [...f.series].map((s) => Object.entries(s))));
      const before = state();
      expect(await t.renderPrometheus()).to.contain('tuist_runs_total{name="build",is_ci="true",status="0"} 1');
      expect(state()).to.equal(before);
    } finally {
      await t.shutdown();
    }
  });

  it('the idle timeout option closes a connection that sends nothing', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', idleTimeoutMs: 200 },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    try {
      await t.ready();
      const socket = net.connect(t.port!, '127.0.0.1');
      socket.on('error', () => {});
      await within(
        new Promise<void>((resolve) => socket.once('close', () => resolve())),
        'the close of the idle connection',
      );
    } finally {
      await t.shutdown();
    }
  });

  it('renderPrometheus() after shutdown returns the last state, third-party instruments included', async () => {
    const t = await startReady();
    t.metrics.recordCacheUpload(7);
    t.meterProvider.getMeter('lib').createCounter('lib.requests').add(3);
    const before = await t.renderPrometheus();
    expect(before).to.contain('lib_requests_total 3');
    await t.shutdown();
    const after = await t.renderPrometheus();
    expect(after).to.contain('tuist_cache_uploaded_bytes 7');
    expect(after).to.contain('lib_requests_total 3');
  });
});

describe('core: a failed render is answered even when reporting it throws', () => {
  it('answers 500 when the render rejects and the error report itself throws (a throwing diag logger)', async () => {
    let reported = 0;
    const { e, port } = await endpoint(
      {},
      () => Promise.reject(new Error('render failed')),
      () => {
        reported++;
        throw new Error('the logger throws');
      },
    );
    try {
      const r = await get(port);
      expect(r.status).to.equal(500);
      expect(reported).to.equal(1);
    } finally {
      await e.close();
    }
  });
});
