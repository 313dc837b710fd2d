import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { diag } from '@opentelemetry/api';
import { captureDiag } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import { send } from '../helpers/index.js';

/**
 * The Prometheus endpoint's answers at their edges, through startTelemetry on 127.0.0.1: the exact bodies and
 * headers of 404 / 405, the Content-Length and Vary of a plain answer, a gzip body larger than one compression
 * slice, the keep-alive timeout it announces, and the message of a port it cannot listen on. The ordinary cases are
 * in endpoint.test.ts, auth-gzip.test.ts, auth-edges.test.ts and limits.test.ts beside this file.
 */

const base: TelemetryOptions = { runtimeMetrics: false, setGlobalMeterProvider: false, env: {} };

describe('core: Prometheus endpoint edges (exact answers, large gzip bodies, keep-alive, listen errors)', () => {
  const started: Telemetry[] = [];
  const start = async (prometheus: TelemetryOptions['prometheus'] = {}): Promise<Telemetry> => {
    const t = startTelemetry({ ...base, prometheus: { port: 0, host: '127.0.0.1', ...prometheus } });
    started.push(t);
    await t.ready();
    return t;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.shutdown()));
  });

  it('404 and 405 say where the metrics are and which methods work, as UTF-8 text', async () => {
    const t = await start();
    const notFound = await send(t.url!, { path: '/' });
    expect(notFound.status).to.equal(404);
    expect(notFound.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(notFound.body.toString()).to.equal('Not found: the metrics are at /metrics\n');
    const noUrlPath = await send(t.url!, { path: '/metrics/' });
    expect(noUrlPath.status).to.equal(404);
    const post = await send(t.url!, { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect(post.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(post.body.toString()).to.equal('Method not allowed\n');
    // The method is checked on /metrics only: another path is 404 whatever the method.
    expect((await send(t.url!, { method: 'POST', path: '/other' })).status).to.equal(404);
  });

  it('a plain answer has its Content-Length and Vary; HEAD the same headers and no body', async () => {
    const t = await start();
    t.metrics.recordRun({ name: 'edge', isCi: false, status: 0 });
    const get = await send(t.url!);
    expect(get.status).to.equal(200);
    expect(Number(get.headers['content-length'])).to.equal(get.body.length);
    expect(get.headers.vary).to.equal('Accept, Accept-Encoding');
    expect(get.headers['content-encoding']).to.equal(undefined);
    expect(get.body.toString()).to.include('tuist_runs_total{');
    const head = await send(t.url!, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers['content-length']).to.equal(get.headers['content-length']);
    expect(head.headers.vary).to.equal('Accept, Accept-Encoding');
    expect(head.body.length).to.equal(0);
  });

  it('a gzip body larger than one compression slice (64 KiB) arrives whole, for a scraper that reads one stream', async () => {
    const t = await start();
    const pad = 'x'.repeat(100);
    for (let i = 0; i < 900; i++) t.metrics.recordRun({ name: `run-${i}-${pad}`, isCi: false, status: 0 });
    const plain = await send(t.url!);
    expect(plain.body.length).to.be.greaterThan(2 * 64 * 1024);
    // Deno's fetch reads one gzip member only: it gets one stream, sliced on the way in.
    const zipped = await send(t.url!, { headers: { 'Accept-Encoding': 'gzip', 'User-Agent': 'Deno/2.9.0' } });
    expect(zipped.headers['content-encoding']).to.equal('gzip');
    expect(zipped.headers.vary).to.equal('Accept, Accept-Encoding');
    expect(gunzipSync(zipped.body).equals(plain.body)).to.equal(true);
  });

  it('announces the keep-alive timeout: the idle timeout, at most 5 s', async () => {
    const short = await start({ idleTimeoutMs: 2000 });
    const r = await send(short.url!, { headers: { Connection: 'keep-alive' } });
    expect(r.headers['keep-alive']).to.equal('timeout=2');
    const long = await start({ idleTimeoutMs: 60_000 });
    expect((await send(long.url!, { headers: { Connection: 'keep-alive' } })).headers['keep-alive']).to.equal(
      'timeout=5',
    );
  });

  it('a port in use is named with the setting that changes it; the host defaults to 0.0.0.0 in the message', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    const logged = captureDiag(diag);
    try {
      const t = startTelemetry({ ...base, prometheus: { port } });
      started.push(t);
      const err = await t.ready().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.equal(
        `@tuist-telemetry/core: the Prometheus endpoint cannot listen on 0.0.0.0:${port}: port ${port} is already in use; set OTEL_EXPORTER_PROMETHEUS_PORT (or options.prometheus.port) to a free port`,
      );
      expect((err as Error & { cause?: { code?: string } }).cause?.code).to.equal('EADDRINUSE');
      expect(logged.matching(/cannot listen on 0\.0\.0\.0:/)).to.have.length(1);
    } finally {
      logged.restore();
      await new Promise((r) => blocker.close(r));
    }
  });

  it('another listen error names the host and port settings', async () => {
    const logged = captureDiag(diag);
    try {
      // An address this machine does not have: EADDRNOTAVAIL, not "in use".
      const t = startTelemetry({ ...base, prometheus: { port: 0, host: '192.0.2.1' } });
      started.push(t);
      const err = await t.ready().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(
        /^@tuist-telemetry\/core: the Prometheus endpoint cannot listen on 192\.0\.2\.1:0: .+; check OTEL_EXPORTER_PROMETHEUS_HOST and OTEL_EXPORTER_PROMETHEUS_PORT$/,
      );
    } finally {
      logged.restore();
    }
  });
});
