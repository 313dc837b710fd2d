import { expect } from 'chai';
import { samples, scrape } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { instrumentFetch } from '@tuist-telemetry/http';
import { closedPort, startServer, type TestServer, startReady } from './helpers.js';

// instrumentFetch is what Bun and Deno get (their fetch is not undici; examples/zero-code/test/runtimes.test.ts runs
// it there); it wraps whatever globalThis.fetch is, so Node's fetch exercises the same code here.
describe("http: instrumentFetch measures the runtime's own fetch (Bun, Deno)", () => {
  let t: Telemetry;
  let server: TestServer;
  let uninstall: (() => void) | undefined;
  const count = async (labels: Record<string, string> = {}): Promise<number> =>
    samples(await scrape(t.url!), 'tuist_http_request_count', labels).reduce((a, s) => a + s.value, 0);

  before(async () => {
    server = await startServer((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('ok');
    });
  });
  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(async () => {
    uninstall?.();
    uninstall = undefined;
    await t.shutdown();
  });
  after(() => server.close());

  it('counts each request by status, method and host, with its duration; uninstall puts the previous fetch back', async () => {
    const previous = globalThis.fetch;
    const metricsOrigin = new URL(t.url!).origin;
    uninstall = instrumentFetch({ telemetry: t, ignore: (origin) => origin === metricsOrigin });
    expect(globalThis.fetch).to.not.equal(previous);
    await (await fetch(`${server.origin}/a`)).text();
    await (await fetch(new URL(`${server.origin}/missing`))).text();
    await (await fetch(new Request(`${server.origin}/b`, { method: 'post', body: 'x' }))).text();
    await (await fetch(`${server.origin}/c`, { method: 'delete' })).text();
    await (await fetch(`${server.origin}/d`, { method: 'PURGE' })).text();
    const exp = await scrape(t.url!);
    const by = (status: string, method: string) =>
      samples(exp, 'tuist_http_request_count', {
        response_status: status,
        request_method: method,
        request_host: '127.0.0.1',
      }).reduce((a, s) => a + s.value, 0);
    // GET 200 is the one request: the scrapes (fetch too) are ignored.
    expect([
      by('200', 'GET'),
      by('404', 'GET'),
      by('200', 'POST'),
      by('200', 'DELETE'),
      by('200', '_OTHER'),
    ]).to.deep.equal([1, 1, 1, 1, 1]);
    expect(samples(exp, 'tuist_http_request_duration_nanosecond_count').reduce((a, s) => a + s.value, 0)).to.equal(5);
    uninstall();
    uninstall = undefined;
    expect(globalThis.fetch).to.equal(previous);
  });

  it("a request that gets no response counts as status error, and the host gets fetch's own rejection unchanged", async () => {
    const metricsOrigin = new URL(t.url!).origin;
    const original = globalThis.fetch;
    let thrown: unknown;
    globalThis.fetch = (() => Promise.reject((thrown = new TypeError('fetch failed')))) as typeof fetch;
    try {
      uninstall = instrumentFetch({ telemetry: t, ignore: (origin) => origin === metricsOrigin });
      const err = await fetch(`http://127.0.0.1:${await closedPort()}/`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.equal(thrown);
    } finally {
      uninstall?.();
      uninstall = undefined;
      globalThis.fetch = original;
    }
    expect(await count({ response_status: 'error' })).to.equal(1);
  });

  it('records nothing while no telemetry runs, and a URL it cannot read passes through to fetch', async () => {
    await t.shutdown();
    uninstall = instrumentFetch();
    expect(await (await fetch(`${server.origin}/a`)).text()).to.equal('ok');
    const err = await fetch('not a url').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TypeError);
    t = await startReady();
    const metricsOrigin = new URL(t.url!).origin;
    uninstall();
    uninstall = instrumentFetch({ ignore: (origin) => origin === metricsOrigin });
    await (await fetch(`${server.origin}/a`)).text();
    expect(await count({ request_host: '127.0.0.1' }), 'the running telemetry, looked up per request').to.equal(1);
  });
});
