import { expect } from 'chai';
import { getGlobalDispatcher, request } from 'undici';
import { scrape, samples, value } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { instrumentUndici } from '@tuist-telemetry/http';
import { closedPort, rejection, startServer, type TestServer, startReady } from './helpers.js';

const host = '127.0.0.1';

describe('http: instrumentUndici measures the built-in fetch and undici calls without a dispatcher', () => {
  let t: Telemetry;
  let server: TestServer;
  let uninstall: (() => void) | undefined;

  before(async () => {
    server = await startServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
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

  it('fetch() and request() go through the instrumented dispatcher; uninstall restores the previous one', async () => {
    const previous = getGlobalDispatcher();
    const metricsOrigin = new URL(t.url!).origin;
    // The scrape itself uses fetch: leave it out, like one would the PostHog endpoint.
    uninstall = instrumentUndici({ telemetry: t, ignore: (origin) => origin === metricsOrigin });
    expect(getGlobalDispatcher()).to.not.equal(previous);

    expect(await (await fetch(`${server.origin}/get`)).text()).to.equal('GET /get ');
    const posted = await fetch(`${server.origin}/post`, { method: 'POST', body: 'payload' });
    expect(posted.status).to.equal(200);
    expect(await posted.text()).to.equal('POST /post payload');
    expect(await (await request(`${server.origin}/undici`)).body.text()).to.equal('GET /undici ');

    const exp = await scrape(t.url!);
    expect(
      value(exp, 'tuist_http_request_count', { response_status: '200', request_method: 'GET', request_host: host }),
    ).to.equal(2);
    expect(
      value(exp, 'tuist_http_request_count', { response_status: '200', request_method: 'POST', request_host: host }),
    ).to.equal(1);
    expect(value(exp, 'tuist_http_send_count', { request_method: 'POST', request_host: host })).to.equal(1);
    expect(
      value(exp, 'tuist_http_receive_count', { status: '200', request_method: 'GET', request_host: host }),
    ).to.equal(2);
    expect(
      value(exp, 'tuist_http_queue_in_use_connections', { url: server.origin, size: 'unlimited', index: '1' }),
    ).to.equal(0);
    expect(samples(exp, 'tuist_http_request_count')).to.have.length(2); // the scrapes were ignored

    uninstall();
    uninstall = undefined;
    expect(getGlobalDispatcher()).to.equal(previous);
    await (await fetch(`${server.origin}/after`)).text();
    const later = await scrape(t.url!);
    expect(
      value(later, 'tuist_http_request_count', { response_status: '200', request_method: 'GET', request_host: host }),
    ).to.equal(2);
    // The uninstalled agent is closed: its pools left the gauges.
    expect(samples(later, 'tuist_http_queue_in_use_connections')).to.have.length(0);
  });

  it('a failing fetch rejects exactly as without the instrumentation', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`;
    const plain = await rejection(fetch(url));
    uninstall = instrumentUndici({ telemetry: t });
    const instrumented = await rejection(fetch(url));
    uninstall();
    uninstall = undefined;
    expect(instrumented.constructor).to.equal(plain.constructor);
    expect(instrumented.message).to.equal(plain.message);
    const cause = (e: Error) => e.cause as Error & { code?: string };
    expect(cause(instrumented).code).to.equal(cause(plain).code).and.to.equal('ECONNREFUSED');

    const exp = await scrape(t.url!);
    expect(
      value(exp, 'tuist_http_request_count', { response_status: 'error', request_method: 'GET', request_host: host }),
    ).to.equal(1);
  });

  it('defaults to the running telemetry', async () => {
    uninstall = instrumentUndici({ ignore: (origin) => origin !== server.origin });
    await (await fetch(`${server.origin}/default`)).text();
    const exp = await scrape(t.url!);
    expect(
      value(exp, 'tuist_http_request_count', { response_status: '200', request_method: 'GET', request_host: host }),
    ).to.equal(1);
  });
});
