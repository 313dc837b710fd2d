import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import { scrape, samples, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { B2 } from '@tuist-telemetry/core/internal';
import { createInstrumentedAgent } from '@tuist-telemetry/http';
import { bucket, sleep, startServer, type TestServer, startReady } from './helpers.js';

const GET = { request_method: 'GET', request_host: '127.0.0.1' };
const ok = (labels = GET) => ({ response_status: '200', ...labels });

/** The first B2 bound at or above `ns`: a sample of at least `ns` is counted only in buckets from there on. */
function boundBelow(ns: number): number {
  return [...B2].reverse().find((b) => b < ns)!;
}

describe('http: instrumented undici Agent, checked on the /metrics scrape', () => {
  let t: Telemetry;
  let agent: Agent;
  let server: TestServer | undefined;

  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(async () => {
    await agent?.destroy();
    await server?.close();
    server = undefined;
    await t.shutdown();
  });
  const metrics = (): Promise<Exposition> => scrape(t.url!);

  it('keep-alive: the second request reuses the connection and records its idle time', async () => {
    server = await startServer((_req, res) => res.end('hi'));
    agent = createInstrumentedAgent({ telemetry: t });
    expect(await (await request(`${server.origin}/a`, { dispatcher: agent })).body.text()).to.equal('hi');
    await sleep(30);
    expect(await (await request(`${server.origin}/b`, { dispatcher: agent })).body.text()).to.equal('hi');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', ok())).to.equal(2);
    expect(value(exp, 'tuist_http_request_duration_nanosecond_count', ok())).to.equal(2);
    expect(value(exp, 'tuist_http_connection_count')).to.equal(1);
    expect(value(exp, 'tuist_http_connection_duration_nanoseconds_count')).to.equal(1);
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(2);
    expect(value(exp, 'tuist_http_queue_idle_time_nanoseconds_count', GET)).to.equal(2);
    // The first request got a new connection (idle 0), the second one waited in the pool for at least 30 ms.
    expect(bucket(exp, 'tuist_http_queue_idle_time_nanoseconds', GET, B2[0]!)).to.equal(1);
    expect(value(exp, 'tuist_http_queue_idle_time_nanoseconds_sum', GET)).to.be.at.least(25e6);
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(2);
    expect(value(exp, 'tuist_http_receive_count', { status: '200', ...GET })).to.equal(2);
    const pool = { url: server.origin, size: 'unlimited', index: '1' };
    expect(value(exp, 'tuist_http_queue_available_connections', pool)).to.equal(1);
    expect(value(exp, 'tuist_http_queue_in_use_connections', pool)).to.equal(0);
  });

  it('an agent without `telemetry` records into the running telemetry, also after a restart', async () => {
    server = await startServer((_req, res) => res.end('hi'));
    agent = createInstrumentedAgent();
    for (let i = 0; i < 2; i++) await (await request(`${server.origin}/a`, { dispatcher: agent })).body.text();
    expect(value(await metrics(), 'tuist_http_request_count', ok())).to.equal(2);
    await t.shutdown();
    t = await startReady();
    await (await request(`${server.origin}/b`, { dispatcher: agent })).body.text();
    const exp = await metrics();
    // Every family of the request, in the new telemetry (series kept for the first one must not be reused).
    expect(value(exp, 'tuist_http_request_count', ok())).to.equal(1);
    expect(value(exp, 'tuist_http_request_duration_nanosecond_count', ok())).to.equal(1);
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(1);
    expect(value(exp, 'tuist_http_queue_duration_nanoseconds_count', GET)).to.equal(1);
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
    expect(value(exp, 'tuist_http_receive_duration_nanoseconds_count', { status: '200', ...GET })).to.equal(1);
  });

  it('connections: 2 with 10 concurrent requests: queue time in the histogram, 2 in use during the burst, 0 after', async () => {
    let gate!: () => void;
    const opened = new Promise<void>((resolve) => (gate = resolve));
    server = await startServer((_req, res) => {
      // Each response is held 50 ms; the first two also until the test has scraped the busy pool.
      const held = server!.received <= 2 ? Promise.all([sleep(50), opened]) : sleep(50);
      void held.then(() => res.end('done'));
    });
    agent = createInstrumentedAgent({ telemetry: t, connections: 2 });
    const burst = Array.from({ length: 10 }, (_, i) =>
      request(`${server!.origin}/r${i}`, { dispatcher: agent }).then((r) => r.body.text()),
    );
    await server.until(2);

    const pool = { url: server.origin, size: '2', index: '1' };
    const during = await metrics();
    expect(value(during, 'tuist_http_queue_in_use_connections', pool)).to.equal(2);
    expect(value(during, 'tuist_http_queue_available_connections', pool)).to.equal(0);
    gate();
    expect(await Promise.all(burst)).to.deep.equal(Array(10).fill('done'));

    const after = await metrics();
    expect(value(after, 'tuist_http_queue_in_use_connections', pool)).to.equal(0);
    expect(value(after, 'tuist_http_queue_available_connections', pool)).to.equal(2);
    expect(value(after, 'tuist_http_connection_count')).to.equal(2);
    expect(value(after, 'tuist_http_queue_count', GET)).to.equal(10);
    expect(value(after, 'tuist_http_request_count', ok())).to.equal(10);
    // With 2 connections the last 8 requests waited for at least one 50 ms response: at most 2 below 50 ms.
    expect(bucket(after, 'tuist_http_queue_duration_nanoseconds', GET, boundBelow(50e6))).to.be.at.most(2);
    expect(value(after, 'tuist_http_queue_duration_nanoseconds_count', GET)).to.equal(10);
    // The whole request includes the queue: requests 7 to 10 waited 3 or 4 rounds of 50 ms, plus their own.
    expect(bucket(after, 'tuist_http_request_duration_nanosecond', ok(), boundBelow(200e6))).to.be.at.most(6);
  });

  it('a server that delays its headers: the wait is in the receive phase, not in send', async () => {
    server = await startServer((_req, res) => void sleep(120).then(() => res.end('late')));
    agent = createInstrumentedAgent({ telemetry: t });
    expect(await (await request(server.origin, { dispatcher: agent })).body.text()).to.equal('late');

    const exp = await metrics();
    const receive = { status: '200', ...GET };
    expect(value(exp, 'tuist_http_receive_count', receive)).to.equal(1);
    expect(bucket(exp, 'tuist_http_receive_duration_nanoseconds', receive, boundBelow(120e6))).to.equal(0);
    expect(bucket(exp, 'tuist_http_request_duration_nanosecond', ok(), boundBelow(120e6))).to.equal(0);
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
    expect(bucket(exp, 'tuist_http_send_duration_nanoseconds', GET, boundBelow(120e6))).to.equal(1);
  });

  it('a connection that takes 150 ms to open: the wait is in the connection phase, not in send', async () => {
    server = await startServer((_req, res) => res.end('hi'));
    const direct = buildConnector({});
    const slow: buildConnector.connector = (options, callback) => void sleep(150).then(() => direct(options, callback));
    agent = createInstrumentedAgent({ telemetry: t, connect: slow });
    expect(await (await request(server.origin, { dispatcher: agent })).body.text()).to.equal('hi');

    const exp = await metrics();
    expect(value(exp, 'tuist_http_connection_count')).to.equal(1);
    expect(bucket(exp, 'tuist_http_connection_duration_nanoseconds', {}, boundBelow(150e6))).to.equal(0);
    // Send starts once the connection is up (the request was assigned to the client before it connected).
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(1);
    expect(bucket(exp, 'tuist_http_send_duration_nanoseconds', GET, boundBelow(150e6))).to.equal(1);
    expect(bucket(exp, 'tuist_http_request_duration_nanosecond', ok(), boundBelow(150e6))).to.equal(0);
  });

  it('a large streamed response body arrives intact and the request lasts until all of it arrived', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const chunks = 128; // 8 MiB
    const expected = createHash('sha256');
    for (let i = 0; i < chunks; i++) expected.update(chunk);
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const write = (): void => {
        while (i < chunks) {
          i++;
          if (i === chunks / 2) {
            // A pause in the middle of the body: the request is not over before the body is.
            void sleep(100).then(write);
            return;
          }
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      write();
    });
    agent = createInstrumentedAgent({ telemetry: t });
    const res = await request(server.origin, { dispatcher: agent });
    const got = createHash('sha256');
    let bytes = 0;
    let pieces = 0;
    for await (const piece of res.body) {
      got.update(piece as Buffer);
      bytes += (piece as Buffer).length;
      pieces++;
    }
    expect(bytes).to.equal(chunk.length * (chunks - 1));
    expect(pieces).to.be.greaterThan(1);

    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', ok())).to.equal(1);
    expect(bucket(exp, 'tuist_http_request_duration_nanosecond', ok(), boundBelow(100e6))).to.equal(0);
    expect(
      bucket(exp, 'tuist_http_receive_duration_nanoseconds', { status: '200', ...GET }, boundBelow(100e6)),
    ).to.equal(0);
  });

  it('a streamed upload: POST labels, send lasts until the body is written', async () => {
    let receivedBytes = 0;
    server = await startServer((req, res) => {
      req.on('data', (d: Buffer) => (receivedBytes += d.length));
      req.on('end', () => res.end('stored'));
    });
    agent = createInstrumentedAgent({ telemetry: t });
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 8; i++) {
        yield Buffer.alloc(256 * 1024, i);
        if (i === 3) await sleep(60);
      }
    }
    const res = await request(server.origin, { dispatcher: agent, method: 'POST', body: Readable.from(body()) });
    expect(await res.body.text()).to.equal('stored');
    expect(receivedBytes).to.equal(8 * 256 * 1024);

    const POST = { request_method: 'POST', request_host: '127.0.0.1' };
    const exp = await metrics();
    expect(value(exp, 'tuist_http_request_count', ok(POST))).to.equal(1);
    expect(value(exp, 'tuist_http_send_count', POST)).to.equal(1);
    expect(bucket(exp, 'tuist_http_send_duration_nanoseconds', POST, boundBelow(60e6))).to.equal(0);
  });

  it('non-standard methods are recorded as _OTHER (methods are case-sensitive), statuses as numbers', async () => {
    server = await startServer((_req, res) => res.end());
    agent = createInstrumentedAgent({ telemetry: t });
    await (await request(server.origin, { dispatcher: agent, method: 'PURGE' as 'GET' })).body.dump();
    await (await request(server.origin, { dispatcher: agent, method: 'delete' as 'DELETE' })).body.dump();
    const exp = await metrics();
    const other = { request_method: '_OTHER', request_host: '127.0.0.1' };
    expect(value(exp, 'tuist_http_request_count', ok(other))).to.equal(1);
    // node:http answers a lower-case method with 400.
    expect(value(exp, 'tuist_http_request_count', { response_status: '400', ...other })).to.equal(1);
    expect(value(exp, 'tuist_http_receive_count', { status: '400', ...other })).to.equal(1);
    for (const s of samples(exp, 'tuist_http_request_count'))
      for (const v of Object.values(s.labels)) expect(v).to.not.equal('');
  });

  it('ignore(origin, path) leaves requests out of every series', async () => {
    server = await startServer((_req, res) => res.end('x'));
    const seen: [string, string][] = [];
    agent = createInstrumentedAgent({
      telemetry: t,
      ignore: (origin, path) => {
        seen.push([origin, path]);
        return path.startsWith('/internal');
      },
    });
    await (await request(`${server.origin}/internal/batch?x=1`, { dispatcher: agent })).body.text();
    const before = await metrics();
    expect(samples(before, 'tuist_http_request_count')).to.have.length(0);
    expect(sum(before, 'tuist_http_queue_count')).to.equal(0);
    expect(value(before, 'tuist_http_connection_count')).to.equal(0);
    // An origin used only by ignored requests is not a pool of the gauges either.
    expect(samples(before, 'tuist_http_queue_available_connections')).to.have.length(0);

    await (await request(`${server.origin}/api`, { dispatcher: agent })).body.text();
    const exp = await metrics();
    expect(seen).to.deep.equal([
      [server.origin, '/internal/batch?x=1'],
      [server.origin, '/api'],
    ]);
    expect(value(exp, 'tuist_http_request_count', ok())).to.equal(1);
    expect(value(exp, 'tuist_http_queue_count', GET)).to.equal(1);
    expect(samples(exp, 'tuist_http_queue_available_connections')).to.have.length(1);
  });

  it('a pool undici dropped (its connection closed) leaves the gauges, and the next request brings it back', async () => {
    // `Connection: close` on /a: the server ends that connection after its response, and undici then drops the pool.
    server = await startServer((req, res) => {
      if (req.url === '/a') res.setHeader('Connection', 'close');
      res.end('hi');
    });
    agent = createInstrumentedAgent({ telemetry: t, connections: 2 });
    const pool = { url: server.origin, size: '2', index: '1' };
    const gaugeSamples = async (): Promise<number> =>
      samples(await metrics(), 'tuist_http_queue_available_connections', pool).length;
    await (await request(`${server.origin}/a`, { dispatcher: agent })).body.text();
    // Until undici saw the close, the pool is still in its stats; the scrape after that drops it.
    for (let i = 0; i < 200 && (await gaugeSamples()) > 0; i++) await sleep(10);
    expect(await gaugeSamples()).to.equal(0);

    await (await request(`${server.origin}/b`, { dispatcher: agent })).body.text();
    // The same agent, origin and telemetry as the request before: added to the gauges again.
    expect(await gaugeSamples()).to.equal(1);
  });

  it('pools of the same origin in two agents get index 1 and 2', async () => {
    server = await startServer((_req, res) => res.end());
    agent = createInstrumentedAgent({ telemetry: t, connections: 1 });
    const second = createInstrumentedAgent({ telemetry: t, connections: 4 });
    try {
      await (await request(server.origin, { dispatcher: agent })).body.dump();
      await (await request(server.origin, { dispatcher: second })).body.dump();
      const exp = await metrics();
      expect(
        value(exp, 'tuist_http_queue_available_connections', { url: server.origin, size: '1', index: '1' }),
      ).to.equal(1);
      expect(
        value(exp, 'tuist_http_queue_available_connections', { url: server.origin, size: '4', index: '2' }),
      ).to.equal(1);
      await second.close();
      const closed = await metrics();
      expect(samples(closed, 'tuist_http_queue_available_connections')).to.have.length(1);
    } finally {
      await second.destroy();
    }
  });

  it('rejects configuration mistakes at creation with a message that says what to change', () => {
    expect(() => createInstrumentedAgent({ factory: () => new Agent() } as never)).to.throw(
      TelemetryConfigError,
      /"factory" option is not supported/,
    );
    expect(() => createInstrumentedAgent({ ignore: 'posthog' } as never)).to.throw(
      TelemetryConfigError,
      /"ignore" must be a function/,
    );
    expect(() => createInstrumentedAgent({ connections: -1 })).to.throw(
      TelemetryConfigError,
      /"connections" must be a whole number/,
    );
    expect(() => createInstrumentedAgent({ telemetry: {} as never })).to.throw(TelemetryConfigError, /startTelemetry/);
    agent = createInstrumentedAgent();
  });
});
