import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { maxAuthorizationLength } from '../../src/prometheus/auth.js';
import { MetricsEndpoint } from '../../src/prometheus/endpoint.js';
import { send, startReady } from '../helpers/index.js';

// Issue 20 items 10-11 and the "Endpoint and auth" behaviours of issue 26: each case below is one a planted bug
// broke with the rest of the suite green.

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('core endpoint: methods, paths and schemes with credentials on', () => {
  let t: Telemetry;
  before(async () => {
    t = await startReady({ prometheus: { auth: { bearerToken: 'tok-123' } } });
  });
  after(() => t.shutdown());

  it('HEAD without credentials is 401 with the challenge, like GET; with them 200 and no body', async () => {
    const none = await send(t.url!, { method: 'HEAD' });
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Bearer realm="metrics"');
    expect(none.body.length).to.equal(0);
    const ok = await send(t.url!, { method: 'HEAD', headers: { Authorization: 'Bearer tok-123' } });
    expect(ok.status).to.equal(200);
    expect(ok.body.length).to.equal(0);
  });

  it('the bearer token sent with another scheme (Basic, Token, none) is refused', async () => {
    for (const authorization of [
      'Basic tok-123',
      'Token tok-123',
      'tok-123',
      `Basic ${b64('tok-123')}`,
      'Bearer',
      'Bearertok-123',
    ]) {
      expect((await send(t.url!, { headers: { Authorization: authorization } })).status, authorization).to.equal(401);
    }
    expect(
      (await send(t.url!, { headers: { Authorization: 'BEARER tok-123' } })).status,
      'the scheme is case-insensitive',
    ).to.equal(200);
    expect(
      (await send(t.url!, { headers: { Authorization: 'Bearer   tok-123' } })).status,
      'one or more spaces after the scheme (RFC 9110)',
    ).to.equal(200);
  });

  it('/metrics?x=1 is /metrics (the query string is not part of the path); other paths stay 404', async () => {
    const r = await send(t.url!, { path: '/metrics?x=1&format=ignored', headers: { Authorization: 'Bearer tok-123' } });
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.contain('# TYPE tuist_runs_total counter');
    expect(
      (await send(t.url!, { path: '/metrics/?x=1', headers: { Authorization: 'Bearer tok-123' } })).status,
    ).to.equal(404);
    expect(
      (await send(t.url!, { path: '/other?/metrics', headers: { Authorization: 'Bearer tok-123' } })).status,
    ).to.equal(404);
  });

  it('Accept in upper case (APPLICATION/OPENMETRICS-TEXT; VERSION=1.0.0) gets OpenMetrics', async () => {
    const r = await send(t.url!, {
      headers: { Authorization: 'Bearer tok-123', Accept: 'APPLICATION/OPENMETRICS-TEXT; VERSION=1.0.0' },
    });
    expect(r.headers['content-type']).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.body.toString().trimEnd().endsWith('# EOF')).to.equal(true);
  });
});

describe('core endpoint: gzip only for a response with a body', () => {
  it('HEAD with Accept-Encoding: gzip has no Content-Encoding and the plain Content-Length', async () => {
    const t = await startReady();
    try {
      const get = await send(t.url!);
      const head = await send(t.url!, { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
      expect(head.status).to.equal(200);
      expect(head.headers['content-encoding']).to.equal(undefined);
      expect(Number(head.headers['content-length'])).to.equal(get.body.length);
      const zipped = await send(t.url!, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(zipped.headers['content-encoding']).to.equal('gzip');
      expect(gunzipSync(zipped.body).length).to.equal(get.body.length);
    } finally {
      await t.shutdown();
    }
  });

  it('an empty body is sent as it is: no Content-Encoding, Content-Length 0', async () => {
    const endpoint = new MetricsEndpoint({
      host: '127.0.0.1',
      port: 0,
      writeTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
      maxConcurrentScrapes: 2,
      render: async () => Buffer.alloc(0),
      onRenderError: () => {},
    });
    try {
      const { port } = (await endpoint.listening) as AddressInfo;
      const r = await send(`http://127.0.0.1:${port}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(r.status).to.equal(200);
      expect(r.headers['content-encoding']).to.equal(undefined);
      expect(r.headers['content-length']).to.equal('0');
      expect(r.body.length).to.equal(0);
    } finally {
      await endpoint.close();
    }
  });
});

describe('core endpoint: credentials a client can actually send (issue 20 item 10)', () => {
  it('a non-ASCII bearer token is refused at start-up naming the variable (RFC 6750 tokens are ASCII)', () => {
    for (const token of ['tökén', 'tok\u00ffen', 'emoji-🔑']) {
      expect(
        () => startTelemetry({ env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: token }, prometheus: { port: 0 } }),
        token,
      ).to.throw(TelemetryConfigError, /^TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN must be printable ASCII/);
      expect(() => startTelemetry({ prometheus: { port: 0, auth: { bearerToken: token } } }), token).to.throw(
        TelemetryConfigError,
        /^options\.prometheus\.auth\.bearerToken must be printable ASCII/,
      );
    }
  });

  it('every printable ASCII character works in a token, as the client sends it', async () => {
    let token = '';
    for (let c = 0x21; c <= 0x7e; c++) token += String.fromCharCode(c);
    const t = await startReady({ env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: token } });
    try {
      expect((await send(t.url!, { headers: { Authorization: `Bearer ${token}` } })).status).to.equal(200);
      expect((await send(t.url!, { headers: { Authorization: `Bearer ${token.slice(1)}` } })).status).to.equal(401);
    } finally {
      await t.shutdown();
    }
  });

  it('a token longer than Node accepts in a header is refused at start-up; the longest allowed one is served', async () => {
    // Node's limit less 1 KB for the other headers, less `Authorization: ` (15345 with the default 16 KB).
    expect(maxAuthorizationLength()).to.equal(http.maxHeaderSize - 1024 - 'Authorization: '.length);
    const longest = 'a'.repeat(maxAuthorizationLength() - 'Bearer '.length);
    expect(longest.length).to.be.within(10_000, http.maxHeaderSize);
    expect(() =>
      startTelemetry({ env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: longest + 'a' }, prometheus: { port: 0 } }),
    ).to.throw(
      TelemetryConfigError,
      /^TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN makes an Authorization header of \d+ bytes, and Node accepts at most \d+ here \(http\.maxHeaderSize/,
    );
    expect(() =>
      startTelemetry({
        env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: 'a'.repeat(http.maxHeaderSize) },
        prometheus: { port: 0 },
      }),
    ).to.throw(TelemetryConfigError);
    expect(() =>
      startTelemetry({
        env: { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: `prom:${'p'.repeat(http.maxHeaderSize)}` },
        prometheus: { port: 0 },
      }),
    ).to.throw(TelemetryConfigError, /^TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH makes an Authorization header/);
    const t = await startReady({ env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: longest } });
    try {
      expect(
        (
          await send(t.url!, {
            headers: {
              Authorization: `Bearer ${longest}`,
              Accept: 'text/plain;version=0.0.4',
              'Accept-Encoding': 'gzip',
            },
          })
        ).status,
      ).to.equal(200);
    } finally {
      await t.shutdown();
    }
  });

  it('the longest basic credentials allowed are served; 3 bytes more (one more base64 group) are refused, from options too', async () => {
    // `Basic ` and the base64 of user:password (4 characters per 3 bytes, padded) must fit.
    const groups = Math.floor((maxAuthorizationLength() - 'Basic '.length) / 4);
    const password = 'p'.repeat(groups * 3 - 'prom:'.length);
    expect(() =>
      startTelemetry({ prometheus: { port: 0, auth: { basic: { username: 'prom', password: password + 'ppp' } } } }),
    ).to.throw(TelemetryConfigError, /^options\.prometheus\.auth\.basic makes an Authorization header/);
    const t = await startReady({ prometheus: { auth: { basic: { username: 'prom', password } } } });
    try {
      expect((await send(t.url!, { headers: { Authorization: `Basic ${b64(`prom:${password}`)}` } })).status).to.equal(
        200,
      );
    } finally {
      await t.shutdown();
    }
  });

  it('basic credentials are decoded as strict base64: junk, the base64url alphabet and missing padding are refused', async () => {
    // `>>>???` encodes to `Pj4+Pz8/`: its base64url spelling differs (`-` and `_`).
    const t = await startReady({ prometheus: { auth: { basic: { username: 'prom', password: 'pä>>>???' } } } });
    try {
      const good = b64('prom:pä>>>???');
      expect(good).to.match(/[+/]/);
      expect(good).to.match(/=$/);
      expect(
        (await send(t.url!, { headers: { Authorization: `Basic ${good}` } })).status,
        'UTF-8 credentials match',
      ).to.equal(200);
      for (const bad of [
        `${good}!!!`,
        good.replace(/\+/g, '-').replace(/\//g, '_'),
        good.replace(/=+$/, ''),
        `${good.slice(0, 4)} ${good.slice(4)}`,
        `${good}AAAA`,
      ]) {
        expect((await send(t.url!, { headers: { Authorization: `Basic ${bad}` } })).status, bad).to.equal(401);
      }
      // Non-zero bits after the last byte spell the same bytes another way: not canonical, refused.
      const last = good.replace(/=+$/, '').slice(-1);
      const sloppy = good.replace(
        /.(=+)$/,
        (_, pad: string) =>
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charAt(
            'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(last) + 1,
          ) + pad,
      );
      expect(Buffer.from(sloppy, 'base64').equals(Buffer.from(good, 'base64')), 'the same bytes').to.equal(true);
      expect((await send(t.url!, { headers: { Authorization: `Basic ${sloppy}` } })).status, sloppy).to.equal(401);
      // The right credentials under another scheme are refused.
      for (const scheme of ['Bearer', 'Token'])
        expect((await send(t.url!, { headers: { Authorization: `${scheme} ${good}` } })).status, scheme).to.equal(401);
    } finally {
      await t.shutdown();
    }
  });
});
