import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { fileURLToPath } from 'node:url';
import express from 'express';
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parseExposition, runTsxChild, scrape, samples, value, type Exposition } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { instrumentHttpServer, TuistHttpServerInstrumentation } from '@tuist-telemetry/http';
import { startReady } from './helpers.js';

const REQUESTS = 'tuist_http_server_requests_total';

/** GET on 127.0.0.1:port; resolves with the status once the body is read (the response has finished). */
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

const portOf = (server: http.Server): number => (server.address() as AddressInfo).port;
const listen = (server: http.Server): Promise<void> => new Promise((r) => server.listen(0, '127.0.0.1', () => r()));
const close = (server: http.Server): Promise<void> =>
  new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

describe('http: TuistHttpServerInstrumentation on real Express 5 and Fastify 5 servers', () => {
  let t: Telemetry;
  let inst: TuistHttpServerInstrumentation;
  const servers: http.Server[] = [];
  const fastifies: { close(): Promise<unknown> }[] = [];
  const metrics = (): Promise<Exposition> => scrape(t.url!);
  const count = async (labels: Record<string, string>): Promise<number> => {
    const found = samples(await metrics(), REQUESTS, labels);
    return found.reduce((a, s) => a + s.value, 0);
  };

  before(async () => {
    t = await startReady({ env: {}, setGlobalMeterProvider: false });
    // '' for /empty: an empty answer is no answer (`unmatched`).
    inst = new TuistHttpServerInstrumentation({
      routeFor: (req) => (req.url?.startsWith('/plain/') ? '/plain/:id' : req.url === '/empty' ? '' : undefined),
    });
    // Express was imported above, before enabling: requiring its `router` again lets the module hook patch it, as
    // loading Express after enabling does (the child-process test loads it after).
    createRequire(createRequire(import.meta.url).resolve('express'))('router');
  });
  after(async () => {
    inst.disable();
    await Promise.all(servers.map(close));
    await Promise.all(fastifies.map((f) => f.close()));
    await t.shutdown();
  });

  it('Express: the matched route (baseUrl + route.path) is the label; unknown paths are unmatched', async () => {
    expect(TuistHttpServerInstrumentation.shortName).to.equal('http');
    const app = express();
    app.get('/api/projects/:id', (_req, res) => void res.send('project'));
    const router = express.Router();
    router.post('/runs/:run', (_req, res) => void res.status(201).send('run'));
    app.use('/mounted', router);
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const port = portOf(server);
    expect(await get(port, '/api/projects/1')).to.equal(200);
    expect(await get(port, '/api/projects/2?x=1')).to.equal(200);
    await new Promise<void>((resolve, reject) =>
      http
        .request({ host: '127.0.0.1', port, path: '/mounted/runs/42', method: 'POST', agent: false }, (res) =>
          res.resume().on('end', () => setImmediate(resolve)),
        )
        .on('error', reject)
        .end(),
    );
    expect(await get(port, '/nope/123')).to.equal(404);
    const exp = await metrics();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/api/projects/:id', status: '200' })).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'POST', route: '/mounted/runs/:run', status: '201' })).to.equal(1);
    expect(value(exp, REQUESTS, { method: 'GET', route: 'unmatched', status: '404' })).to.equal(1);
    for (const s of samples(exp, REQUESTS)) expect(s.labels.route).to.not.match(/\d/);
  });

  it('Express: nested routers with parameters at two levels, arrays and regexps give templates, never the raw path', async () => {
    const app = express();
    // Path-scoped middleware that passes on: its mount path is left behind.
    app.use('/orgs/:org', (_req: unknown, _res: unknown, next: () => void) => next());
    // A route that passes every run request on: the route that answers names it.
    app.get('/orgs/:o/projects/:p/runs/:r', (_req, _res, next) => next());
    const runs = express.Router({ mergeParams: true });
    runs.get('/:run', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 5));
      res.send('run');
    });
    runs.get('/:run/logs/:line', (_req, res) => void res.send('line'));
    const projects = express.Router();
    projects.use('/:project/runs', runs);
    projects.get('/:project', (_req, res) => void res.send('project'));
    app.use('/orgs/:org/projects', projects);
    const items = express.Router();
    items.get('/:id', (_req, res) => void res.send('item'));
    app.use(['/v1/items', '/v2/items'], items);
    const legacy = express.Router();
    legacy.get('/info', (_req, res) => void res.send('legacy'));
    app.use(/^\/legacy\/\d+/, legacy);
    app.get(/^\/files\/.+$/, (_req, res) => void res.send('file'));
    // A sub-app mounted with a parameter, and a route that fails into the app's error handler.
    const admin = express();
    admin.get('/users/:user', (_req, res) => void res.send('user'));
    admin.get('/boom/:n', () => {
      throw new Error('boom');
    });
    app.use('/admin/:tenant', admin);
    const root = express.Router();
    root.get('/status', (_req, res) => void res.send('ok'));
    app.use(root);
    app.use((_req: unknown, res: express.Response) => void res.status(404).send('none'));
    app.use(
      (_err: unknown, _req: unknown, res: express.Response, _next: unknown) => void res.status(500).send('failed'),
    );
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const port = portOf(server);
    const expected: [string, number, string][] = [
      ['/orgs/acme/projects/p1/runs/9', 200, '/orgs/:org/projects/:project/runs/:run'],
      ['/orgs/zeta/projects/p2/runs/10', 200, '/orgs/:org/projects/:project/runs/:run'],
      ['/orgs/acme/projects/p1/runs/9/logs/3', 200, '/orgs/:org/projects/:project/runs/:run/logs/:line'],
      ['/orgs/acme/projects/p1', 200, '/orgs/:org/projects/:project'],
      ['/orgs/acme/projects/p1/runs/9/missing/1', 404, 'unmatched'],
      ['/v2/items/5', 200, '/v1/items,/v2/items/:id'],
      ['/v1/items/6', 200, '/v1/items,/v2/items/:id'],
      ['/legacy/42/info', 200, String(/^\/legacy\/\d+/) + '/info'],
      ['/files/a/b.txt', 200, String(/^\/files\/.+$/)],
      ['/status', 200, '/status'],
      ['/admin/t1/users/u1', 200, '/admin/:tenant/users/:user'],
      ['/admin/t1/boom/3', 500, '/admin/:tenant/boom/:n'],
    ];
    const before = await metrics();
    for (const [path, status] of expected) expect(await get(port, path), path).to.equal(status);
    const exp = await metrics();
    const seen = new Map<string, number>();
    for (const [, status, route] of expected) seen.set(`${route} ${status}`, (seen.get(`${route} ${status}`) ?? 0) + 1);
    for (const [key, n] of seen) {
      const [route, status] = key.split(' ') as [string, string];
      const was = samples(before, REQUESTS, { method: 'GET', route, status }).reduce((a, x) => a + x.value, 0);
      expect(value(exp, REQUESTS, { method: 'GET', route, status }) - was, key).to.equal(n);
    }
    for (const sample of samples(exp, REQUESTS))
      expect(sample.labels.route).to.not.match(/acme|zeta|p1|p2|\/42|\/5$|b\.txt|t1|u1/);
  });

  it('Express: a route under a mount path the router patch did not see is unmatched, not the raw path', async () => {
    inst.disable();
    try {
      const app = express();
      const router = express.Router();
      router.get('/builds/:build', (_req, res) => void res.send('build'));
      app.use('/apps/:app', router);
      app.get('/top/:id', (_req, res) => void res.send('top'));
      const server = instrumentHttpServer(app.listen(0, '127.0.0.1'));
      servers.push(server);
      await new Promise((r) => server.once('listening', r));
      const before = await count({ route: 'unmatched', status: '200' });
      expect(await get(portOf(server), '/apps/tuist/builds/7')).to.equal(200);
      expect(await get(portOf(server), '/top/8')).to.equal(200);
      expect((await count({ route: 'unmatched', status: '200' })) - before).to.equal(1);
      expect(await count({ route: '/top/:id', status: '200' })).to.equal(1);
      expect(await count({ route: '/apps/tuist/builds/:build' })).to.equal(0);
    } finally {
      inst.enable();
    }
  });

  it('Fastify: request.routeOptions.url is the label; unknown paths are unmatched', async () => {
    const app = Fastify();
    fastifies.push(app);
    app.get('/items/:id', async () => ({ ok: true }));
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(app.server);
    const unmatched = await count({ route: 'unmatched', status: '404' });
    expect(await get(port, '/items/1')).to.equal(200);
    expect(await get(port, '/items/2')).to.equal(200);
    expect(await get(port, '/health')).to.equal(200);
    expect(await get(port, '/missing/7')).to.equal(404);
    const exp = await metrics();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/items/:id', status: '200' })).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'GET', route: '/health', status: '200' })).to.equal(1);
    expect((await count({ route: 'unmatched', status: '404' })) - unmatched).to.equal(1);
  });

  it('a second instance enabled and disabled leaves the first one naming Fastify routes', async () => {
    const second = new TuistHttpServerInstrumentation();
    second.disable();
    second.disable();
    const app = Fastify();
    fastifies.push(app);
    app.get('/twice/:id', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await get(portOf(app.server), '/twice/1')).to.equal(200);
    expect(await count({ route: '/twice/:id' })).to.equal(1);
  });

  it("a plain server: the routeFor config, else (undefined or '') unmatched; scrapes of the endpoint itself are not counted", async () => {
    const server = http.createServer((_req, res) => res.end('plain'));
    servers.push(server);
    await listen(server);
    const before = await count({ route: 'unmatched', status: '200' });
    expect(await get(portOf(server), '/plain/1')).to.equal(200);
    expect(await get(portOf(server), '/other')).to.equal(200);
    expect(await get(portOf(server), '/empty')).to.equal(200);
    expect(await count({ route: '/plain/:id' })).to.equal(1);
    expect((await count({ route: 'unmatched', status: '200' })) - before).to.equal(2);
  });

  it('an https server is measured too (https.Server is not an http.Server)', async () => {
    // A self-signed certificate for 127.0.0.1, made for this test only.
    const tls = {
      key: readFileSync(new URL('./fixtures/test-key.pem', import.meta.url)),
      cert: readFileSync(new URL('./fixtures/test-cert.pem', import.meta.url)),
    };
    const server = https.createServer(tls, (_req, res) => res.end('secure'));
    servers.push(server as unknown as http.Server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const status = await new Promise<number>((resolve, reject) =>
      https
        .get({ host: '127.0.0.1', port, path: '/plain/secure', agent: false, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => setImmediate(() => resolve(res.statusCode!)));
        })
        .on('error', reject),
    );
    expect(status).to.equal(200);
    expect(await count({ route: '/plain/:id' })).to.equal(2);
  });

  it('a server also given to instrumentHttpServer is counted once, with its own options', async () => {
    const server = instrumentHttpServer(
      http.createServer((_req, res) => res.end('x')),
      { routeFor: () => '/explicit' },
    );
    servers.push(server);
    await listen(server);
    await get(portOf(server), '/a');
    await get(portOf(server), '/b');
    expect(await count({ route: '/explicit' })).to.equal(2);
  });

  it('an unsupported router (or something else named router) is skipped with one diag message and left unchanged', () => {
    const lines: string[] = [];
    const push = (...a: unknown[]): number => lines.push(a.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const routerDef = (i: TuistHttpServerInstrumentation) =>
        i.getModuleDefinitions().find((m) => m.name === 'router')!;
      const OldRouter = function Router(): void {};
      const use = (): void => {};
      OldRouter.prototype.use = use;
      OldRouter.prototype.route = use;
      const def = routerDef(new TuistHttpServerInstrumentation({ enabled: false }));
      expect(def.patch!(OldRouter, '1.3.8')).to.equal(OldRouter);
      expect(def.patch!(OldRouter, '1.3.8')).to.equal(OldRouter);
      expect(OldRouter.prototype.use).to.equal(use);
      expect(lines.filter((l) => l.includes('router 1.3.8 is not supported'))).to.have.length(1);
      const notARouter = { hello: 'world' };
      expect(routerDef(new TuistHttpServerInstrumentation({ enabled: false })).patch!(notARouter, '2.0.0')).to.equal(
        notARouter,
      );
      expect(lines.filter((l) => l.includes('router 2.0.0 does not look like router 2.x'))).to.have.length(1);
      expect(lines).to.have.length(2);
      // The real router 2.x, as CJS exports and as an ESM namespace (`import Router from 'router'`): no message.
      const Router = createRequire(createRequire(import.meta.url).resolve('express'))('router') as unknown;
      const fresh = routerDef(new TuistHttpServerInstrumentation({ enabled: false }));
      expect(fresh.patch!(Router, '2.3.0')).to.equal(Router);
      const namespace = { default: Router };
      expect(fresh.patch!(namespace, '2.3.0')).to.equal(namespace);
      expect(lines).to.have.length(2);
    } finally {
      diag.disable();
    }
  });

  it('disable and enable are idempotent (and quiet); while disabled nothing is counted', async () => {
    const lines: string[] = [];
    const push = (...a: unknown[]): number => lines.push(a.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const server = http.createServer((_req, res) => res.end('x'));
      servers.push(server);
      await listen(server);
      inst.disable();
      inst.disable();
      expect(Object.hasOwn(http.Server.prototype, 'emit')).to.equal(false);
      await get(portOf(server), '/plain/off');
      expect(await count({ route: '/plain/:id' })).to.equal(2);
      inst.enable();
      inst.enable();
      await get(portOf(server), '/plain/on');
      expect(await count({ route: '/plain/:id' })).to.equal(3);
      expect(lines).to.deep.equal([]);
    } finally {
      diag.disable();
    }
  });

  it('setConfig: a routeFor that is not a function is dropped with a warning; null is an empty config', () => {
    const lines: string[] = [];
    const push = (...a: unknown[]): number => lines.push(a.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const other = new TuistHttpServerInstrumentation({ enabled: false });
      const routeFor = (): string => '/x';
      other.setConfig({ routeFor });
      expect(other.getConfig().routeFor).to.equal(routeFor);
      other.setConfig({ routeFor: 'x' as never });
      expect(other.getConfig().routeFor).to.equal(undefined);
      expect(lines.filter((l) => l.includes('routeFor must be a function'))).to.have.length(1);
      expect(() => other.setConfig(null as never)).not.to.throw();
      expect(other.getConfig().routeFor).to.equal(undefined);
    } finally {
      diag.disable();
    }
  });
});

describe('http: TuistHttpServerInstrumentation in an ESM Express 5 app (child process, loader hook)', () => {
  it('nested routers with parameters give templates; a 404 inside a mounted router is unmatched', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const { code, output: out } = await runTsxChild(
      ['--import', './test/fixtures/register-http.ts', './test/fixtures/express-app.mjs'],
      { cwd },
    );
    expect(code, out).to.equal(0);
    const exp = parseExposition(out.slice(out.indexOf('EXPOSITION\n') + 11));
    expect(
      value(exp, REQUESTS, { method: 'GET', route: '/orgs/:org/projects/:project/runs/:run', status: '200' }),
      out,
    ).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'GET', route: 'unmatched', status: '404' }), out).to.equal(1);
    expect(
      samples(exp, REQUESTS)
        .map((s) => s.labels.route)
        .sort(),
    ).to.deep.equal(['/orgs/:org/projects/:project/runs/:run', 'unmatched']);
  });
});
