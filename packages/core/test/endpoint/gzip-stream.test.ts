import { expect } from 'chai';
import type { DiagLogger } from '@opentelemetry/api';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { startTelemetry } from '@tuist-telemetry/core';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { MemberStream, writeGzipMembers } from '../../src/prometheus/gzip-stream.js';
import { PrometheusRenderer } from '../../src/prometheus/render.js';

/** A server on 127.0.0.1 that answers every request with `stream` through writeGzipMembers. */
async function serve(stream: MemberStream): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => writeGzipMembers(res, { 'Content-Type': 'text/plain' }, stream));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The data of each HTTP chunk of a chunked response read raw from `url` (the request closes the connection). */
function rawChunks(url: string, onFirstData: () => void): Promise<Buffer[]> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise<Buffer[]>((resolve, reject) => {
    const parts: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () =>
      socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
      ),
    );
    socket.once('data', onFirstData);
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(parts);
      let at = raw.indexOf('\r\n\r\n') + 4;
      expect(raw.subarray(0, at).toString().toLowerCase()).to.contain('transfer-encoding: chunked');
      const chunks: Buffer[] = [];
      for (;;) {
        const eol = raw.indexOf('\r\n', at);
        const size = Number.parseInt(raw.subarray(at, eol).toString(), 16);
        if (size === 0) return resolve(chunks);
        chunks.push(raw.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    });
  });
}

describe('core: gzip members are written as they are compressed (issue 22 item 1)', () => {
  it('the first member reaches the scraper before the body is finished; the whole decodes to every member in order', async () => {
    const stream = new MemberStream();
    stream.push(gzipSync('a 1\n'));
    const server = await serve(stream);
    try {
      const reply = await new Promise<{ headers: http.IncomingHttpHeaders; early: string; body: Buffer }>(
        (resolve, reject) => {
          http
            .get(server.url, { agent: false }, (res) => {
              const chunks: Buffer[] = [];
              let early: string | undefined;
              res.on('data', (c: Buffer) => {
                chunks.push(c);
                if (early !== undefined) return;
                // What came before the rest exists: the first member, whole.
                early = gunzipSync(Buffer.concat(chunks)).toString();
                stream.push(gzipSync('b 2\n'));
                stream.end();
              });
              res.on('end', () => resolve({ headers: res.headers, early: early!, body: Buffer.concat(chunks) }));
            })
            .on('error', reject);
        },
      );
      expect(reply.early).to.equal('a 1\n');
      expect(reply.headers['content-encoding']).to.equal('gzip');
      expect(reply.headers['content-length']).to.equal(undefined);
      expect(reply.headers['transfer-encoding']).to.equal('chunked');
      expect(gunzipSync(reply.body).toString()).to.equal('a 1\nb 2\n');
    } finally {
      await server.close();
    }
  });

  it('the members that are in together go out as one HTTP chunk, not one chunk each', async () => {
    const stream = new MemberStream();
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m ${from + i}\n`);
    for (const line of lines(0, 20)) stream.push(gzipSync(line));
    const server = await serve(stream);
    try {
      const chunks = await rawChunks(server.url, () => {
        // Two more members come in together while the first ones are on their way, then the end.
        for (const line of lines(20, 22)) stream.push(gzipSync(line));
        stream.end();
      });
      expect(chunks.map((c) => gunzipSync(c).toString())).to.deep.equal([
        lines(0, 20).join(''),
        lines(20, 22).join(''),
      ]);
    } finally {
      await server.close();
    }
  });

  it('a body whose members are all in is sent with its Content-Length', async () => {
    const stream = new MemberStream();
    for (const line of ['a 1\n', 'b 2\n', 'c 3\n']) stream.push(gzipSync(line));
    stream.end();
    const server = await serve(stream);
    try {
      const reply = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http
          .get(server.url, { agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
      expect(Number(reply.headers['content-length'])).to.equal(reply.body.length);
      expect(gunzipSync(reply.body).toString()).to.equal('a 1\nb 2\nc 3\n');
    } finally {
      await server.close();
    }
  });

  it('a render that fails after the first member cuts the response off (never a shorter body that ends well)', async () => {
    const stream = new MemberStream();
    stream.push(gzipSync('a 1\n'));
    const server = await serve(stream);
    try {
      const outcome = await new Promise<{ complete: boolean; bytes: number }>((resolve) => {
        http
          .get(server.url, { agent: false }, (res) => {
            let bytes = 0;
            res.on('data', (c: Buffer) => {
              if (bytes === 0) stream.fail(new Error('a piece could not be compressed'));
              bytes += c.length;
            });
            res.on('error', () => {});
            res.on('close', () => resolve({ complete: res.complete, bytes }));
          })
          .on('error', () => resolve({ complete: false, bytes: -1 }));
      });
      expect(outcome.complete).to.equal(false);
    } finally {
      await server.close();
    }
  });

  it('gzip scrapes that arrive while a body is produced share it; one that comes after gets a new one', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    const logged: string[] = [];
    const keep = (...args: unknown[]) => logged.push(args.map(String).join(' '));
    const logger: DiagLogger = { error: keep, warn: keep, info() {}, debug() {}, verbose() {} };
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      const renderer = new PrometheusRenderer({
        withScopeLabels: false,
        withTargetInfo: false,
        withCreated: false,
        store: t.store,
        resource: t.resource,
        scope: { name: 'test', version: '0' },
        reader: undefined,
        canCollect: () => false,
        warnings: new RateLimitedLogger(logger),
      });
      const [a, b] = await Promise.all([renderer.renderGzip('text'), renderer.renderGzip('text')]);
      expect(a).to.equal(b);
      while (!a.done) await new Promise((resolve) => setImmediate(resolve));
      expect(a.failure).to.equal(undefined);
      const plain = await renderer.render('text');
      expect(gunzipSync(Buffer.concat(a.members)).equals(plain)).to.equal(true);
      // Once it is finished, the next scrape renders again (and sees what was recorded since).
      t.metrics.recordRun({ name: 'test', isCi: false, status: 1, durationMs: 5 });
      const c = await renderer.renderGzip('text');
      expect(c).to.not.equal(a);
      while (!c.done) await new Promise((resolve) => setImmediate(resolve));
      expect(gunzipSync(Buffer.concat(c.members)).equals(await renderer.render('text'))).to.equal(true);
      expect(logged).to.deep.equal([]);
    } finally {
      await t.shutdown();
    }
  });
});
