import { expect } from 'chai';
import express from 'express';
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { scrape, samples, value, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { instrumentHttpServer, TuistHttpServerInstrumentation } from '@tuist-telemetry/http';

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
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, env: {}, setGlobalMeterProvider: false });
    await t.ready();
    inst = new TuistHttpServerInstrumentation({ routeFor: (req) => (req.url?.startsWith('/plain/') ? '/plain/:id' : undefined) });
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
      http.request({ host: '127.0.0.1', port, path: '/mounted/runs/42', method: 'POST', agent: false }, (res) => res.resume().on('end', () => setImmediate(resolve))).on('error', reject).end(),
    );
    expect(await get(port, '/nope/123')).to.equal(404);
    const exp = await metrics();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/api/projects/:id', status: '200' })).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'POST', route: '/mounted/runs/:run', status: '201' })).to.equal(1);
    expect(value(exp, REQUESTS, { method: 'GET', route: 'unmatched', status: '404' })).to.equal(1);
    for (const s of samples(exp, REQUESTS)) expect(s.labels.route).to.not.match(/\d/);
  });

  it('Fastify: request.routeOptions.url is the label; unknown paths are unmatched', async () => {
    const app = Fastify();
    fastifies.push(app);
    app.get('/items/:id', async () => ({ ok: true }));
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(app.server);
    expect(await get(port, '/items/1')).to.equal(200);
    expect(await get(port, '/items/2')).to.equal(200);
    expect(await get(port, '/health')).to.equal(200);
    expect(await get(port, '/missing/7')).to.equal(404);
    const exp = await metrics();
    expect(value(exp, REQUESTS, { method: 'GET', route: '/items/:id', status: '200' })).to.equal(2);
    expect(value(exp, REQUESTS, { method: 'GET', route: '/health', status: '200' })).to.equal(1);
    expect(await count({ route: 'unmatched', status: '404' })).to.equal(2); // Express's and this one
  });

  it('a plain server: the routeFor config, else unmatched; scrapes of the endpoint itself are not counted', async () => {
    const server = http.createServer((_req, res) => res.end('plain'));
    servers.push(server);
    await listen(server);
    const before = await count({ route: 'unmatched', status: '200' });
    expect(await get(portOf(server), '/plain/1')).to.equal(200);
    expect(await get(portOf(server), '/other')).to.equal(200);
    expect(await count({ route: '/plain/:id' })).to.equal(1);
    expect((await count({ route: 'unmatched', status: '200' })) - before).to.equal(1);
  });

  it('an https server is measured too (https.Server is not an http.Server)', async () => {
    // A self-signed certificate for 127.0.0.1, made for this test only.
    const tls = { key: readFileSync(new URL('./fixtures/test-key.pem', import.meta.url)), cert: readFileSync(new URL('./fixtures/test-cert.pem', import.meta.url)) };
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
    const server = instrumentHttpServer(http.createServer((_req, res) => res.end('x')), { routeFor: () => '/explicit' });
    servers.push(server);
    await listen(server);
    await get(portOf(server), '/a');
    await get(portOf(server), '/b');
    expect(await count({ route: '/explicit' })).to.equal(2);
  });

  it('disable and enable are idempotent; while disabled nothing is counted', async () => {
    const server = http.createServer((_req, res) => res.end('x'));
    servers.push(server);
    await listen(server);
    inst.disable();
    inst.disable();
    expect(Object.prototype.hasOwnProperty.call(http.Server.prototype, 'emit')).to.equal(false);
    await get(portOf(server), '/plain/off');
    expect(await count({ route: '/plain/:id' })).to.equal(2);
    inst.enable();
    inst.enable();
    await get(portOf(server), '/plain/on');
    expect(await count({ route: '/plain/:id' })).to.equal(3);
  });
});
