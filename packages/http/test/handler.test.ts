import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';
import { Agent, connect, interceptors, request, upgrade, type Dispatcher } from 'undici';
import { scrape, samples, value, type Exposition } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { createInstrumentedAgent } from '@tuist-telemetry/http';
import { rejection, sleep, startServer, type TestServer, startReady } from './helpers.js';

const GET = { request_method: 'GET', request_host: '127.0.0.1' };

/** A node:http server that answers upgrades with 101 and CONNECT with 200, then echoes on the raw socket. */
async function startTunnelServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => res.end('plain'));
  const raw = new Set<Socket>(); // taken over from the server: close() would wait for them
  const echo = (socket: Socket, head: string) => {
    raw.add(socket);
    socket.write(head);
    socket.on('data', (d) => socket.write(d));
  };
  server.on('upgrade', (_req, socket: Socket) =>
    echo(socket, 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n'),
  );
  server.on('connect', (_req, socket: Socket) => echo(socket, 'HTTP/1.1 200 Connection Established\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of raw) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function roundTrip(socket: Socket | NodeJS.ReadWriteStream): Promise<string> {
  const got = once(socket as Socket, 'data');
  (socket as Socket).write('ping');
  const [chunk] = (await got) as [Buffer];
  (socket as Socket).destroy();
  return chunk.toString();
}

describe('http: the instrumented agent passes every handler callback on (upgrades, CONNECT, retries, handler APIs)', () => {
  let t: Telemetry;
  let agent: Agent;
  let server: TestServer | undefined;

  beforeEach(async () => {
    t = await startReady();
    agent = createInstrumentedAgent({ telemetry: t });
  });
  afterEach(async () => {
    await agent.destroy();
    await server?.close();
    server = undefined;
    await t.shutdown();
  });
  const metrics = (): Promise<Exposition> => scrape(t.url!);

  it('an upgrade: the caller gets the socket, the request counts with status 101', async () => {
    const tunnel = await startTunnelServer();
    try {
      const { socket, headers } = await upgrade(tunnel.origin, { dispatcher: agent, protocol: 'echo' });
      expect(headers.upgrade).to.equal('echo');
      expect(await roundTrip(socket)).to.equal('ping');
      const exp = await metrics();
      expect(value(exp, 'tuist_http_request_count', { response_status: '101', ...GET })).to.equal(1);
      expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
      expect(value(exp, 'tuist_http_receive_count', { status: '101', ...GET })).to.equal(1);
    } finally {
      await tunnel.close();
    }
  });

  it('CONNECT: the caller gets the tunnel, the request counts with its method and status 200', async () => {
    const tunnel = await startTunnelServer();
    try {
      const { socket, statusCode } = await connect(tunnel.origin, { dispatcher: agent });
      expect(statusCode).to.equal(200);
      expect(await roundTrip(socket)).to.equal('ping');
      const labels = { response_status: '200', request_method: 'CONNECT', request_host: '127.0.0.1' };
      expect(value(await metrics(), 'tuist_http_request_count', labels)).to.equal(1);
    } finally {
      await tunnel.close();
    }
  });

  it("undici's retry interceptor on top: each attempt is a request of its own", async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      res.statusCode = ++n === 1 ? 503 : 200;
      res.end('body');
    });
    const retrying = agent.compose(
      interceptors.retry({ maxRetries: 2, minTimeout: 1, timeoutFactor: 1, statusCodes: [503], methods: ['GET'] }),
    );
    const res = await request(server.origin, { dispatcher: retrying });
    expect(res.statusCode).to.equal(200);
    expect(await res.body.text()).to.equal('body');
    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: '503', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(1);
  });

  it("a handler of undici 7's API (onRequestStart ... onResponseEnd) gets every callback with its values", async () => {
    server = await startServer((_req, res) => res.setHeader('x-test', 'yes').end('new api'));
    const seen: string[] = [];
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => void seen.push('start'),
        onResponseStart: (_c, status, headers) => void seen.push(`response ${status} ${String(headers['x-test'])}`),
        onResponseData: (_c, chunk) => void chunks.push(chunk),
        onResponseEnd: () => {
          seen.push('end');
          resolve();
        },
        onResponseError: (_c, err) => reject(err),
      };
      agent.dispatch({ origin: server!.origin, path: '/', method: 'GET' }, handler);
    });
    await done;
    expect(seen).to.deep.equal(['start', 'response 200 yes', 'end']);
    expect(Buffer.concat(chunks).toString()).to.equal('new api');
    expect(value(await metrics(), 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(1);
  });

  it('a legacy handler: called on itself, and false from onData pauses the body until it resumes', async () => {
    const body = Buffer.alloc(4 << 20, 'x');
    server = await startServer((_req, res) => res.end(body));
    const self: boolean[] = [];
    let resume: (() => void) | undefined;
    let received = 0;
    let ended = false;
    const done = new Promise<void>((resolve, reject) => {
      const handler = {
        onConnect(this: unknown) {
          self.push(this === handler);
        },
        onHeaders(this: unknown, _status: number, _headers: unknown, r: () => void) {
          self.push(this === handler);
          resume = r;
          return true;
        },
        onData(this: unknown, chunk: Buffer) {
          received += chunk.length;
          return false; // backpressure after every chunk
        },
        onComplete(this: unknown) {
          self.push(this === handler);
          ended = true;
          resolve();
        },
        onError: (err: Error) => {
          ended = true;
          reject(err);
        },
      };
      agent.dispatch({ origin: server!.origin, path: '/', method: 'GET' }, handler as Dispatcher.DispatchHandler);
    });
    while (received === 0) await sleep(5);
    const first = received;
    await sleep(50);
    // Paused: nothing more arrived (undici would have kept reading had the false not reached it).
    expect(received).to.equal(first);
    // The parser stays paused after each chunk (and before the end) until resumed.
    while (!ended) {
      resume!();
      await sleep(0);
    }
    await done;
    expect(received).to.equal(body.length);
    expect(self).to.deep.equal([true, true, true]);
  });

  it("an exception of the caller's handler reaches undici unchanged (the request fails with it), counted as before", async () => {
    server = await startServer((_req, res) => res.end('x'));
    const boom = new Error('host handler failed');
    const err = await new Promise<unknown>((resolve) => {
      agent.dispatch({ origin: server!.origin, path: '/', method: 'GET' }, {
        onConnect() {},
        onHeaders() {
          throw boom;
        },
        onData: () => true,
        onComplete: () => resolve('completed'),
        onError: (e: Error) => resolve(e),
      } as Dispatcher.DispatchHandler);
    });
    expect(err).to.equal(boom);
    // The headers had arrived: the status is the label, as when the body fails afterwards.
    expect(value(await metrics(), 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(1);
  });

  it('a handler undici refuses (no onComplete) fails as with a plain Agent and counts as an error', async () => {
    server = await startServer((_req, res) => res.end('x'));
    const refused = (d: Dispatcher) =>
      new Promise<Error>((resolve) => {
        d.dispatch({ origin: server!.origin, path: '/', method: 'GET' }, {
          onConnect() {},
          onHeaders: () => true,
          onData: () => true,
          onError: (e: Error) => resolve(e),
        } as unknown as Dispatcher.DispatchHandler);
      });
    const plain = new Agent();
    try {
      const [expected, got] = await Promise.all([refused(plain), refused(agent)]);
      expect(got.message).to.equal(expected.message);
      expect(got.constructor).to.equal(expected.constructor);
    } finally {
      await plain.destroy();
    }
    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(samples(exp, 'tuist_http_send_count')).to.have.length(0);
  });

  it('requests still queued when the agent is destroyed get its error and are not measured (as before)', async () => {
    server = await startServer(() => {}); // holds the only connection
    const single = createInstrumentedAgent({ telemetry: t, connections: 1 });
    const sent = rejection(request(server.origin, { dispatcher: single }));
    await server.until(1);
    const queued = rejection(request(server.origin, { dispatcher: single }));
    const reason = new Error('shutting down');
    await single.destroy(reason);
    expect(await queued).to.equal(reason);
    expect(await sent).to.equal(reason);
    const exp = await metrics();
    // The request on the connection ends as an error; the queued one never got a connection.
    expect(value(exp, 'tuist_http_request_count', { response_status: 'error', ...GET })).to.equal(1);
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(1);
  });
});
