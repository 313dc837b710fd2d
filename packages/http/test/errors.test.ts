import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { Agent, request } from 'undici';
import { scrape, samples, value, type Exposition } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { createInstrumentedAgent } from '@tuist-telemetry/http';
import { closedPort, rejection, startServer, type TestServer, startReady } from './helpers.js';

const GET = { request_method: 'GET', request_host: '127.0.0.1' };

/** What identifies an undici error for the caller. */
function shape(err: Error & { code?: string }): {
  type: string;
  name: string;
  code: string | undefined;
  message: string;
} {
  return { type: err.constructor.name, name: err.name, code: err.code, message: err.message };
}

describe('http: failed requests reach the caller unchanged and are recorded as errors', () => {
  let t: Telemetry;
  let agent: Agent;
  let plain: Agent;
  let server: TestServer | undefined;

  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(async () => {
    await Promise.all([agent?.destroy(), plain?.destroy()]);
    await server?.close();
    server = undefined;
    await t.shutdown();
  });
  const metrics = (): Promise<Exposition> => scrape(t.url!);

  /** Runs the same request through a plain Agent and the instrumented one; both must fail the same way. */
  async function sameFailure(
    url: string,
    options: { headers?: Record<string, string>; consume?: boolean } = {},
    agentOptions: Agent.Options = {},
  ) {
    plain = new Agent(agentOptions);
    agent = createInstrumentedAgent({ ...agentOptions, telemetry: t });
    const run = async (dispatcher: Agent) => {
      const res = await request(url, { headers: options.headers, dispatcher });
      if (options.consume) await res.body.text();
      return res;
    };
    // Side by side: undici's headers/body timeouts tick at about one second.
    const [expected, got] = await Promise.all([rejection(run(plain)), rejection(run(agent))]);
    expect(shape(got)).to.deep.equal(shape(expected));
    return got;
  }

  it('a server that resets the connection', async () => {
    server = await startServer((req) => req.socket.destroy());
    const err = await sameFailure(server.origin);
    expect(err.code).to.equal('UND_ERR_SOCKET');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
    expect(value(exp, 'tuist_http_receive_count', { status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_connection_count')).to.equal(1);
  });

  it('connection refused', async () => {
    const port = await closedPort();
    const err = await sameFailure(`http://127.0.0.1:${port}/`);
    expect(err.code).to.equal('ECONNREFUSED');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_request_duration_nanosecond_count', { response_status: 'error', ...GET })).to.equal(
      1,
    );
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(1);
    // No connection was established, nothing was sent or received.
    expect(value(exp, 'tuist_http_connection_count')).to.equal(0);
    expect(samples(exp, 'tuist_http_send_count')).to.have.length(0);
    expect(samples(exp, 'tuist_http_receive_count')).to.have.length(0);
  });

  it('an aborted request rejects with the very AbortSignal reason', async () => {
    server = await startServer(() => {}); // never answers
    agent = createInstrumentedAgent({ telemetry: t });
    const controller = new AbortController();
    const pending = request(server.origin, { dispatcher: agent, signal: controller.signal });
    await server.until(1);
    const reason = new Error('user went away');
    controller.abort(reason);
    expect(await rejection(pending)).to.equal(reason);

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_receive_count', { status: 'error', ...GET })).to.equal(1);
  });

  it('an aborted request that was still waiting for a pool connection', async () => {
    server = await startServer(() => {}); // holds the only connection
    agent = createInstrumentedAgent({ telemetry: t, connections: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const holding = rejection(request(server.origin, { dispatcher: agent, signal: first.signal }));
    await server.until(1);
    const queued = rejection(request(server.origin, { dispatcher: agent, signal: second.signal }));
    const reason = new Error('gave up waiting');
    second.abort(reason);
    first.abort(new Error('done'));
    expect(await queued).to.equal(reason);
    await holding;

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(2);
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(2);
    // Only the first request was sent.
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
  });

  it('headersTimeout: no response arrived', async () => {
    server = await startServer(() => {});
    const err = await sameFailure(server.origin, {}, { headersTimeout: 100 });
    expect(err.code).to.equal('UND_ERR_HEADERS_TIMEOUT');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_receive_count', { status: 'error', ...GET })).to.equal(1);
  });

  it('bodyTimeout: the response arrived (its status is the label), its body did not', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const err = await sameFailure(server.origin, { consume: true }, { bodyTimeout: 100 });
    expect(err.code).to.equal('UND_ERR_BODY_TIMEOUT');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_receive_count', { status: '200', ...GET })).to.equal(1);
  });

  it('a request undici rejects before sending it (invalid header) fails the same way and counts as an error', async () => {
    server = await startServer((_req, res) => res.end());
    const err = await sameFailure(server.origin, { headers: { 'x-bad': 'a\r\nb' } });
    expect(err.code).to.equal('UND_ERR_INVALID_ARG');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(samples(exp, 'tuist_http_send_count')).to.have.length(0);
  });

  describe('an exception inside the instrumentation', () => {
    const logged: string[] = [];
    before(() => {
      const capture: DiagLogger = {
        error: (...a: unknown[]) => logged.push(a.map(String).join(' ')),
        warn: (...a: unknown[]) => logged.push(a.map(String).join(' ')),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      };
      diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    });
    after(() => diag.disable());

    it('is caught and logged once; the requests succeed and are still measured', async () => {
      server = await startServer((_req, res) => res.end('fine'));
      agent = createInstrumentedAgent({
        telemetry: t,
        ignore: () => {
          throw new Error('broken ignore hook');
        },
      });
      for (let i = 0; i < 3; i++)
        expect(await (await request(server.origin, { dispatcher: agent })).body.text()).to.equal('fine');
      const exp = await metrics();
      expect(value(exp, 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(3);
      const ours = logged.filter((l) => l.includes('@tuist-telemetry/http'));
      expect(ours).to.have.length(1);
      expect(ours[0]).to.contain('broken ignore hook');
    });
  });
});
