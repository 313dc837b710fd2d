import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { captureDiag, scrape, samples } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { TuistHttpServerInstrumentation } from '@tuist-telemetry/http';

/**
 * The edges of TuistHttpServerInstrumentation on real servers on 127.0.0.1: the framework contracts it reads (the
 * `tracing:fastify.request.handler:start` channel message, Express's `req.route` / `req.baseUrl`) when they carry
 * odd values, which instance's `routeFor` is used, someone else's `Server.prototype.emit` wrapper on top of ours,
 * the `router` module definition's unusual inputs, and setConfig's. The ordinary cases are in
 * server-instrumentation.test.ts.
 */

const REQUESTS = 'tuist_http_server_requests_total';
const FASTIFY_START = 'tracing:fastify.request.handler:start';
type Emit = (this: unknown, ...args: unknown[]) => boolean;
type Handler = (req: http.IncomingMessage & Record<string, unknown>) => void;

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => setImmediate(() => resolve(res.statusCode!)));
      })
      .on('error', reject);
  });
}

const routerDefinition = (i: TuistHttpServerInstrumentation) =>
  i.getModuleDefinitions().find((m) => m.name === 'router')!;
const realRouter = (): { prototype: Record<string, unknown> } =>
  createRequire(createRequire(import.meta.url).resolve('express'))('router') as { prototype: Record<string, unknown> };

describe('http: TuistHttpServerInstrumentation edges (framework messages, instances, emit wrappers, router hook)', () => {
  let t: Telemetry;
  let server: http.Server;
  let port: number;
  /** What the server does to each request before answering (set per test). */
  let onRequest: Handler = () => {};
  const instances: TuistHttpServerInstrumentation[] = [];
  const instrumentation = (config?: ConstructorParameters<typeof TuistHttpServerInstrumentation>[0]) => {
    const i = new TuistHttpServerInstrumentation(config);
    instances.push(i);
    return i;
  };
  /** Requests counted per route since `before`. */
  const routes = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const s of samples(await scrape(t.url!), REQUESTS))
      out[s.labels.route!] = (out[s.labels.route!] ?? 0) + s.value;
    return out;
  };
  const delta = async (paths: string[]): Promise<Record<string, number>> => {
    const before = await routes();
    for (const p of paths) expect(await get(port, p)).to.equal(200);
    const after = await routes();
    const out: Record<string, number> = {};
    for (const [route, n] of Object.entries(after))
      if (n !== (before[route] ?? 0)) out[route] = n - (before[route] ?? 0);
    return out;
  };

  before(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      env: {},
      setGlobalMeterProvider: false,
    });
    await t.ready();
    server = http.createServer((req, res) => {
      onRequest(req as http.IncomingMessage & Record<string, unknown>);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => {
    onRequest = () => {};
    for (const i of instances.splice(0)) i.disable();
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await t.shutdown();
  });

  it("Fastify's handler message: a non-empty string url names the route; an empty, missing or odd one does not", async () => {
    instrumentation();
    const channel = diagnosticsChannel.channel(FASTIFY_START);
    onRequest = (req) => {
      const kind = req.url!.slice(1);
      if (kind === 'ok') channel.publish({ request: { raw: req }, route: { url: '/items/:id' } });
      else if (kind === 'empty') channel.publish({ request: { raw: req }, route: { url: '' } });
      else if (kind === 'number') channel.publish({ request: { raw: req }, route: { url: 7 } });
      else if (kind === 'no-raw') channel.publish({ request: {}, route: { url: '/x' } });
      else if (kind === 'raw-string') channel.publish({ request: { raw: 'req' }, route: { url: '/x' } });
      else if (kind === 'null') channel.publish(null);
      else if (kind === 'hostile')
        channel.publish({
          get request(): never {
            throw new Error('hostile message');
          },
        });
    };
    expect(await delta(['/ok', '/empty', '/number', '/no-raw', '/raw-string', '/null', '/hostile'])).to.deep.equal({
      '/items/:id': 1,
      unmatched: 6,
    });
  });

  it('Fastify routes are named only while an instance is enabled; two instances share one subscription', async () => {
    const a = instrumentation();
    const b = instrumentation();
    const channel = diagnosticsChannel.channel(FASTIFY_START);
    onRequest = (req) => channel.publish({ request: { raw: req }, route: { url: '/f/:id' } });
    b.disable();
    expect(channel.hasSubscribers).to.equal(true);
    expect(await delta(['/f/1'])).to.deep.equal({ '/f/:id': 1 });
    a.disable();
    // None enabled: nothing is left listening on Fastify's channel.
    expect(channel.hasSubscribers).to.equal(false);
    const c = instrumentation({ routeFor: () => '/from-route-for' });
    expect(await delta(['/f/2'])).to.deep.equal({ '/f/:id': 1 });
    c.disable();
    // No instance: nothing listens (a later one with routeFor only sees its own answer).
    const d = instrumentation({ routeFor: () => '/from-route-for' });
    d.disable();
    d.enable();
    expect(await delta(['/f/3'])).to.deep.equal({ '/f/:id': 1 });
    d.disable();
    expect(channel.hasSubscribers).to.equal(false);
  });

  it("Express's req.route.path names a route of the top-level router only (an empty path is '/')", async () => {
    instrumentation({ routeFor: () => '/fallback' });
    onRequest = (req) => {
      const [, kind] = req.url!.split('/');
      if (kind === 'top') req.route = { path: '/top/:id' };
      else if (kind === 'root') req.route = { path: '' };
      else if (kind === 'mounted') Object.assign(req, { route: { path: '/:id' }, baseUrl: '/mount' });
      else if (kind === 'base-empty') Object.assign(req, { route: { path: '/e/:id' }, baseUrl: '' });
      else if (kind === 'base-odd') Object.assign(req, { route: { path: '/o/:id' }, baseUrl: 5 });
      else if (kind === 'path-odd') req.route = { path: 5 };
    };
    expect(await delta(['/top/1', '/root', '/mounted/1', '/base-empty/1', '/base-odd/1', '/path-odd/1'])).to.deep.equal(
      { '/top/:id': 1, '/': 1, '/fallback': 2, '/e/:id': 1, '/o/:id': 1 },
    );
  });

  it("the first enabled instance's routeFor is used; once it is disabled, the next one's", async () => {
    const a = instrumentation({ routeFor: () => '/a' });
    const b = instrumentation({ routeFor: () => '/b' });
    expect(await delta(['/x'])).to.deep.equal({ '/a': 1 });
    a.disable();
    expect(await delta(['/x'])).to.deep.equal({ '/b': 1 });
    a.enable();
    expect(await delta(['/x'])).to.deep.equal({ '/b': 1 });
    b.disable();
    a.disable();
    expect(await delta(['/x'])).to.deep.equal({});
    // enable() twice is one enable: one disable() stops it (and leaves nothing listening).
    a.enable();
    a.enable();
    a.disable();
    expect(await delta(['/x'])).to.deep.equal({});
    expect(diagnosticsChannel.channel(FASTIFY_START).hasSubscribers).to.equal(false);
  });

  it('a runtime whose TracingChannel lacks hasSubscribers (Bun) gets it with the meaning Node gives it', () => {
    const proto = Object.getPrototypeOf(diagnosticsChannel.tracingChannel('tuist-test.probe')) as object;
    const original = Object.getOwnPropertyDescriptor(proto, 'hasSubscribers');
    expect(original, 'this Node has TracingChannel#hasSubscribers').to.not.equal(undefined);
    expect(diagnosticsChannel.channel(FASTIFY_START).hasSubscribers, 'no instance enabled before').to.equal(false);
    delete (proto as { hasSubscribers?: boolean }).hasSubscribers;
    try {
      instrumentation();
      expect('hasSubscribers' in proto).to.equal(true);
      const tc = diagnosticsChannel.tracingChannel('tuist-test.bun-like') as unknown as Record<
        'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error',
        diagnosticsChannel.Channel
      > & { hasSubscribers: boolean };
      expect(tc.hasSubscribers).to.equal(false);
      const listener = (): void => {};
      for (const name of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) {
        tc[name].subscribe(listener);
        expect(tc.hasSubscribers, name).to.equal(true);
        tc[name].unsubscribe(listener);
        expect(tc.hasSubscribers, name).to.equal(false);
      }
    } finally {
      for (const i of instances.splice(0)) i.disable();
      Object.defineProperty(proto, 'hasSubscribers', original!);
    }
  });

  it("someone else's emit wrapper on top stays on disable and enable; ours under it passes through while disabled", async () => {
    const proto = http.Server.prototype as unknown as { emit: Emit };
    const a = instrumentation({ routeFor: () => '/wrapped' });
    const ours = proto.emit;
    let seen = 0;
    const theirs: Emit = function emit(this: unknown, ...args: unknown[]): boolean {
      if (args[0] === 'request' && this === server) seen++;
      return ours.apply(this, args);
    };
    proto.emit = theirs;
    try {
      expect(await delta(['/1'])).to.deep.equal({ '/wrapped': 1 });
      a.disable();
      expect(proto.emit).to.equal(theirs);
      expect(await delta(['/2'])).to.deep.equal({});
      a.enable();
      expect(proto.emit).to.equal(theirs);
      expect(await delta(['/3'])).to.deep.equal({ '/wrapped': 1 });
      expect(seen).to.equal(3);
      // They unwrap (their own emit removed): enabling another instance puts ours on top again.
      delete (proto as { emit?: Emit }).emit;
      instrumentation().enable();
      expect(proto.emit).to.equal(ours);
      expect(await delta(['/4'])).to.deep.equal({ '/wrapped': 1 });
    } finally {
      if (proto.emit === theirs) delete (proto as { emit?: Emit }).emit;
    }
    for (const i of instances.splice(0)) i.disable();
    expect(Object.hasOwn(proto, 'emit')).to.equal(false);
  });

  it('the router hook: another major is named in one warning; no version or an unreadable one is tried', () => {
    const logged = captureDiag(diag);
    try {
      const Router = realRouter();
      expect(routerDefinition(instrumentation({ enabled: false })).patch!(Router, undefined)).to.equal(Router);
      expect(routerDefinition(instrumentation({ enabled: false })).patch!(Router, 'latest')).to.equal(Router);
      expect(logged.lines).to.deep.equal([]);
      const odd = instrumentation({ enabled: false });
      expect(routerDefinition(odd).patch!({ default: 'nope' }, undefined)).to.deep.equal({ default: 'nope' });
      expect(routerDefinition(odd).patch!(Router, '3.0.0')).to.equal(Router);
      expect(routerDefinition(instrumentation({ enabled: false })).patch!(Router, '1.3.8')).to.equal(Router);
      expect(routerDefinition(instrumentation({ enabled: false })).patch!(undefined, undefined)).to.equal(undefined);
      expect(logged.lines).to.deep.equal([
        'warn: @tuist-telemetry/http/server router does not look like router 2.x; routes under mount paths are not named',
        "warn: @tuist-telemetry/http/server router 1.3.8 is not supported (router 2.x, Express 5's, is); routes under mount paths are not named",
        'warn: @tuist-telemetry/http/server router does not look like router 2.x; routes under mount paths are not named',
      ]);
    } finally {
      logged.restore();
    }
  });

  it("the router hook's unpatch keeps the patch while an instance is enabled; failures go to diag, never thrown", () => {
    const logged = captureDiag(diag);
    try {
      const Router = realRouter();
      const a = instrumentation();
      routerDefinition(a).patch!(Router, '2.2.0');
      const patched = Router.prototype.use;
      routerDefinition(instrumentation({ enabled: false })).unpatch!(Router, '2.2.0');
      expect(Router.prototype.use).to.equal(patched);
      a.disable();
      const hostile = {
        get default(): never {
          throw new Error('hostile router');
        },
      };
      const i = instrumentation({ enabled: false });
      expect(routerDefinition(i).patch!(hostile, '2.0.0')).to.equal(hostile);
      expect(() => routerDefinition(i).unpatch!(hostile, '2.0.0')).not.to.throw();
      expect(logged.lines).to.deep.equal([
        'error: @tuist-telemetry/http/server patching router failed; routes under mount paths are not named Error: hostile router',
        'error: @tuist-telemetry/http/server unpatching failed Error: hostile router',
      ]);
      // With none enabled, the hook's unpatch puts the originals back.
      routerDefinition(i).unpatch!(Router, '2.2.0');
      expect(Router.prototype.use).to.not.equal(patched);
    } finally {
      logged.restore();
    }
  });

  it('setConfig: a config that is not an object is empty; a bad routeFor is dropped and the other keys kept', () => {
    const logged = captureDiag(diag);
    try {
      const i = instrumentation({ enabled: false, routeFor: () => '/r' });
      i.setConfig('nonsense' as never);
      expect(i.getConfig()).to.deep.equal({ enabled: true });
      i.setConfig({ enabled: false, routeFor: 42 as never });
      expect(i.getConfig()).to.deep.include({ enabled: false });
      expect(i.getConfig().routeFor).to.equal(undefined);
      expect(logged.lines).to.deep.equal([
        'warn: @tuist-telemetry/http/server routeFor must be a function (req) => route template | undefined, got number; ignored',
      ]);
      expect(i.isEnabled()).to.equal(false);
    } finally {
      logged.restore();
    }
  });

  it('a request event it cannot track (odd arguments) is reported once, never thrown; other server events are not requests', async () => {
    instrumentation();
    const logged = captureDiag(diag);
    try {
      // A real server's life: listening, connection, request, close. None of it is a tracking failure.
      const own = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => own.listen(0, '127.0.0.1', () => r()));
      expect(await get((own.address() as AddressInfo).port, '/plain')).to.equal(200);
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
      expect(logged.lines, 'events of a real server').to.deep.equal([]);
      // Someone emits `request` with arguments that are no request and response: dropped with one report.
      own.removeAllListeners('request');
      expect(own.emit('request', {}, {})).to.equal(false);
      expect(own.emit('request', {}, {})).to.equal(false);
      expect(logged.lines.map((l) => l.split(' TypeError')[0])).to.deep.equal([
        'error: @tuist-telemetry/core @tuist-telemetry/http: could not track a served request',
      ]);
    } finally {
      logged.restore();
    }
  });

  it('an enable() that fails says what the host loses and leaves the instance disabled', () => {
    class Failing extends TuistHttpServerInstrumentation {
      protected override onEnable(): void {
        throw new Error('cannot patch');
      }
    }
    const logged = captureDiag(diag);
    try {
      const i = new Failing();
      expect(i.isEnabled()).to.equal(false);
      expect(logged.lines).to.deep.equal([
        'error: @tuist-telemetry/http/server enable failed; servers are not instrumented Error: cannot patch',
      ]);
    } finally {
      logged.restore();
    }
  });

  it('Express: a route under a mount whose pattern is unknown (router 2.0-2.2 keep none on the layer) is not named', async () => {
    const i = instrumentation({ routeFor: () => '/fallback' });
    const express = createRequire(import.meta.url)('express') as typeof import('express');
    // Built while no instance is enabled (the router patch records no pattern), its mount layer made to look like
    // one of router 2.0-2.2, which keep no `rawPath`: the route is seen taking the request, its template unknown.
    i.disable();
    const app = express();
    const builds = express.Router();
    builds.get('/builds/:build', (_req, res) => void res.send('build'));
    app.use('/apps/:app', builds);
    const stack = (app as unknown as { router: { stack: { rawPath?: unknown }[] } }).router.stack;
    delete stack[stack.length - 1]!.rawPath;
    app.get('/top/:id', (_req, res) => void res.send('top'));
    i.enable();
    const own = app.listen(0, '127.0.0.1');
    try {
      await new Promise((r) => own.once('listening', r));
      const before = await routes();
      expect(await get((own.address() as AddressInfo).port, '/apps/tuist/builds/7')).to.equal(200);
      expect(await get((own.address() as AddressInfo).port, '/top/8')).to.equal(200);
      const after = await routes();
      expect(after['/fallback']! - (before['/fallback'] ?? 0), 'the unknown template: routeFor').to.equal(1);
      expect(after['/top/:id']! - (before['/top/:id'] ?? 0)).to.equal(1);
      expect(Object.keys(after).filter((r) => !r.startsWith('/') && r !== 'unmatched')).to.deep.equal([]);
    } finally {
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
  });
});
