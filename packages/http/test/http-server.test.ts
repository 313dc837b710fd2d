import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { samples, scrape, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { B1 } from '@tuist-telemetry/core/internal';
import { instrumentHttpServer } from '@tuist-telemetry/http';

const REQUESTS = 'tuist_http_server_requests_total';
const DURATION = 'tuist_http_server_request_duration_milliseconds';

/** A small app: routes by hand, the way a framework's router would name them. */
function routeFor(req: http.IncomingMessage): string | undefined {
  const path = (req.url ?? '').split('?')[0]!;
  if (path === '/route-throws') throw new Error('router exploded');
  if (path === '/route-empty') return '';
  if (/^\/api\/projects\/\d+$/.test(path)) return '/api/projects/:id';
  if (path === '/api/projects') return '/api/projects';
  if (['/slow', '/boom', '/stream', '/hang'].includes(path)) return path;
  return undefined;
}

interface App {
  server: http.Server;
  port: number;
  /** Resolves when the server has closed the response of the request sent with `x-test-id: id`. */
  closed(id: string): Promise<void>;
}

async function startApp(): Promise<App> {
  const waiters = new Map<string, () => void>();
  const done = new Map<string, Promise<void>>();
  const closed = (id: string): Promise<void> => {
    let p = done.get(id);
    if (!p) done.set(id, (p = new Promise<void>((resolve) => waiters.set(id, resolve))));
    return p;
  };
  const server = http.createServer((req, res) => {
    const id = String(req.headers['x-test-id'] ?? '');
    void closed(id);
    // Registered after the instrumentation's listeners: when this runs, the request has been recorded.
    res.on('close', () => waiters.get(id)?.());
    const path = (req.url ?? '').split('?')[0]!;
    if (path === '/slow') {
      setTimeout(() => res.end('late'), 150);
    } else if (path === '/boom') {
      res.statusCode = 500;
      res.end('boom');
    } else if (path === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n'); // the client destroys its socket once it has this
    } else if (path === '/hang') {
      // never answers; the client gives up
    } else if (path === '/api/projects' && req.method === 'POST') {
      res.statusCode = 201;
      res.end();
    } else if (!/^\/api\/projects\/\d+$/.test(path) && path !== '/route-throws') {
      res.statusCode = 404;
      res.end('not found');
    } else {
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, closed };
}

let nextId = 0;

/** Sends a request and resolves with its status once the server has closed the response. */
async function call(app: App, method: string, path: string): Promise<number> {
  const id = String(++nextId);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: app.port, method, path, agent: false, headers: { 'x-test-id': id } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end();
  });
  await app.closed(id);
  return status;
}

/** Sends a request and destroys the socket: after the first body chunk, or right away when `whenSent`. */
async function abort(app: App, path: string, whenSent = false): Promise<void> {
  const id = String(++nextId);
  const req = http.request(
    { host: '127.0.0.1', port: app.port, method: 'GET', path, agent: false, headers: { 'x-test-id': id } },
    (res) => {
      res.once('data', () => req.destroy());
    },
  );
  req.on('error', () => {}); // the abort itself
  if (whenSent) req.on('finish', () => setImmediate(() => req.destroy()));
  req.end();
  await app.closed(id);
}

describe('http: instrumentHttpServer against a real node:http server', () => {
  let other: Telemetry;
  let t: Telemetry;
  let app: App;

  before(async () => {
    // `other` first: `t` is then the running telemetry that getTelemetry() returns.
    other = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      env: {},
      setGlobalMeterProvider: false,
    });
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      env: {},
      setGlobalMeterProvider: false,
    });
    await Promise.all([t.ready(), other.ready()]);
    app = await startApp();
    expect(instrumentHttpServer(app.server, { routeFor })).to.equal(app.server);
    // Idempotent: a second call neither doubles the counts nor replaces routeFor.
    instrumentHttpServer(app.server, { routeFor: () => '/second-call' });
  });
  after(async () => {
    app.server.closeAllConnections();
    await new Promise((resolve) => app.server.close(resolve));
    await Promise.all([t.shutdown(), other.shutdown()]);
  });

  const scrapeT = (): Promise<Exposition> => scrape(t.url!);

  it('counts requests by method, route template and status (the raw path never becomes a label)', async () => {
    expect(await call(app, 'GET', '/api/projects/1')).to.equal(200);
    expect(await call(app, 'GET', '/api/projects/2?x=1')).to.equal(200);
    expect(await call(app, 'POST', '/api/projects')).to.equal(201);
    expect(await call(app, 'GET', '/boom')).to.equal(500);
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/api/projects/:id', status: '200' })).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'POST', route: '/api/projects', status: '201' })).to.equal(1);
    expect(value(exp, REQUESTS, { method: 'GET', route: '/boom', status: '500' })).to.equal(1);
    for (const s of samples(exp, REQUESTS)) {
      expect(Object.keys(s.labels).sort()).to.deep.equal(['method', 'route', 'status']);
      expect(s.labels.route).to.not.match(/\d/);
    }
    expect(samples(exp, REQUESTS, { route: '/second-call' })).to.deep.equal([]);
  });

  it('paths without a route are `unmatched`', async () => {
    expect(await call(app, 'GET', '/does/not/exist/123')).to.equal(404);
    expect(await call(app, 'GET', '/another/unknown')).to.equal(404);
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: 'GET', route: 'unmatched', status: '404' })).to.equal(2);
    expect(samples(exp, REQUESTS).map((s) => s.labels.route)).to.not.include('/does/not/exist/123');
  });

  it('times each request in the duration histogram (B1 buckets, milliseconds)', async () => {
    await call(app, 'GET', '/slow');
    const exp = await scrapeT();
    const labels = { method: 'GET', route: '/slow', status: '200' };
    expect(value(exp, `${DURATION}_count`, labels)).to.equal(1);
    // A 150 ms setTimeout can fire up to ~1 ms early against the monotonic clock (libuv schedules timers from its
    // cached loop time), so the bound leaves a few ms; the le=100 bucket below still proves the request was timed.
    expect(value(exp, `${DURATION}_sum`, labels)).to.be.at.least(145);
    expect(value(exp, `${DURATION}_bucket`, { ...labels, le: '100' })).to.equal(0);
    const les = samples(exp, `${DURATION}_bucket`, labels).map((s) => s.labels.le);
    expect(les).to.deep.equal([...B1.map(String), '+Inf']);
    // Every counted request is timed once.
    expect(sum(exp, `${DURATION}_count`)).to.equal(sum(exp, REQUESTS));
  });

  it('methods outside the standard set are `_OTHER`', async () => {
    await call(app, 'PROPFIND', '/api/projects/7');
    await call(app, 'OPTIONS', '/api/projects/7');
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: '_OTHER', route: '/api/projects/:id', status: '200' })).to.equal(1);
    expect(value(exp, REQUESTS, { method: 'OPTIONS', route: '/api/projects/:id', status: '200' })).to.equal(1);
    expect(samples(exp, REQUESTS, { method: 'PROPFIND' })).to.deep.equal([]);
  });

  it('a response cut off by the client is recorded once with status `aborted`', async () => {
    await abort(app, '/stream');
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/stream', status: 'aborted' })).to.equal(1);
    expect(samples(exp, REQUESTS, { route: '/stream', status: '200' })).to.deep.equal([]);
    expect(value(exp, `${DURATION}_count`, { route: '/stream', status: 'aborted' })).to.equal(1);
  });

  it('a request the client gives up on before any response is `aborted` too', async () => {
    await abort(app, '/hang', true);
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/hang', status: 'aborted' })).to.equal(1);
  });

  it('a throwing routeFor never reaches the host: the request is `unmatched` and one warning is logged', async () => {
    const warnings: string[] = [];
    const record = (...args: unknown[]): void => void warnings.push(args.map(String).join(' '));
    diag.setLogger(
      { error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} },
      DiagLogLevel.WARN,
    );
    try {
      expect(await call(app, 'GET', '/route-throws')).to.equal(200);
      expect(await call(app, 'GET', '/route-throws')).to.equal(200);
    } finally {
      diag.disable();
    }
    const exp = await scrapeT();
    expect(value(exp, REQUESTS, { method: 'GET', route: 'unmatched', status: '200' })).to.equal(2);
    expect(warnings.filter((w) => w.includes('routeFor threw'))).to.have.length(1);
  });

  it('a routeFor that answers an empty string gives `unmatched`, never an empty route label', async () => {
    const before = await scrapeT();
    expect(await call(app, 'GET', '/route-empty')).to.equal(404);
    expect(await call(app, 'GET', '/route-empty?x=1')).to.equal(404);
    const exp = await scrapeT();
    const labels = { method: 'GET', route: 'unmatched', status: '404' };
    expect(sum(exp, REQUESTS, labels) - sum(before, REQUESTS, labels)).to.equal(2);
    expect(sum(exp, `${DURATION}_count`, labels) - sum(before, `${DURATION}_count`, labels)).to.equal(2);
    for (const s of samples(exp, REQUESTS))
      expect(s.labels.route, JSON.stringify(s.labels)).to.be.a('string').and.not.equal('');
  });

  it('records into an explicit `telemetry` option instead of the running one', async () => {
    const app2 = await startApp();
    try {
      instrumentHttpServer(app2.server, { telemetry: other, routeFor: () => '/explicit' });
      expect(await call(app2, 'DELETE', '/api/projects/3')).to.equal(200);
      expect(
        value(await scrape(other.url!), REQUESTS, { method: 'DELETE', route: '/explicit', status: '200' }),
      ).to.equal(1);
      expect(samples(await scrapeT(), REQUESTS, { route: '/explicit' })).to.deep.equal([]);
    } finally {
      app2.server.closeAllConnections();
      await new Promise((resolve) => app2.server.close(resolve));
    }
  });

  it('configuration mistakes throw at set-up with what to change', () => {
    expect(() => instrumentHttpServer({} as http.Server)).to.throw(/node:http Server/);
    expect(() => instrumentHttpServer(http.createServer(), { routeFor: 'x' as unknown as () => string })).to.throw(
      /routeFor must be a function/,
    );
  });
});
