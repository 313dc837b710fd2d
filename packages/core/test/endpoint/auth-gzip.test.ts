import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { diag } from '@opentelemetry/api';
import { captureDiag, parseExposition, startPrometheus, value } from '@tuist-telemetry/testing';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { acceptsGzip } from '../../src/prometheus/endpoint.js';
import { requirePrometheus, get, startReady } from '../helpers/index.js';

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

describe('core: gzip scrapes', () => {
  it('Accept-Encoding: gzip gets a gzip body that decompresses to the plain one', async () => {
    const t = await startReady({ highCardinalityLabels: ['object_key'] });
    const logged = captureDiag(diag);
    try {
      // Enough series for a body of several slices (past the 1000-value label bound, which warns once).
      const h = t.store.histogram('tuist_storage_get_object_size_size_bytes');
      for (let i = 0; i < 3000; i++) h.record(i, { object_key: `projects/acme/app/cache/${i}.zip` });
      expect(logged.lines).to.have.length(1);
      expect(logged.lines[0]).to.contain('label "object_key" reached 1000 distinct values');
      const plain = await get(t.url!);
      const zipped = await get(t.url!, { 'Accept-Encoding': 'gzip, deflate' });
      expect(plain.headers['content-encoding']).to.equal(undefined);
      expect(zipped.status).to.equal(200);
      expect(zipped.headers['content-encoding']).to.equal('gzip');
      expect(zipped.headers.vary).to.equal('Accept, Accept-Encoding');
      expect(zipped.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(zipped.body.length).to.be.lessThan(plain.body.length / 5);
      const unzipped = gunzipSync(zipped.body);
      expect(unzipped.equals(plain.body)).to.equal(true);
      expect(
        value(parseExposition(unzipped.toString('utf8')), 'tuist_storage_get_object_size_size_bytes_count', {
          object_key: 'projects/acme/app/cache/7.zip',
        }),
      ).to.equal(1);
    } finally {
      logged.restore();
      await t.shutdown();
    }
  });

  it('reads Accept-Encoding as HTTP says (q=0 refuses, x-gzip accepted)', () => {
    expect(acceptsGzip(undefined)).to.equal(false);
    expect(acceptsGzip('identity')).to.equal(false);
    expect(acceptsGzip('gzip')).to.equal(true);
    expect(acceptsGzip('deflate, GZIP;q=0.5')).to.equal(true);
    expect(acceptsGzip('gzip;q=0')).to.equal(false);
    expect(acceptsGzip('x-gzip')).to.equal(true);
    expect(acceptsGzip('br, gzip ; q=1.0')).to.equal(true);
  });
});

describe('core: credentials on /metrics', () => {
  it('a bearer token: 401 with WWW-Authenticate without it or with another, 200 with it', async () => {
    const t = await startReady({ prometheus: { auth: { bearerToken: 's3cret-token' } } });
    try {
      const none = await get(t.url!);
      expect(none.status).to.equal(401);
      expect(none.headers['www-authenticate']).to.equal('Bearer realm="metrics"');
      expect(none.body.toString()).to.not.contain('tuist_');
      expect((await get(t.url!, { Authorization: 'Bearer s3cret-tokeN' })).status).to.equal(401);
      expect((await get(t.url!, { Authorization: 'Bearer s3cret-token-longer' })).status).to.equal(401);
      expect((await get(t.url!, { Authorization: basic('s3cret-token', '') })).status).to.equal(401);
      const ok = await get(t.url!, { Authorization: 'bearer s3cret-token' });
      expect(ok.status).to.equal(200);
      expect(ok.body.toString()).to.contain('# TYPE tuist_runs_total counter');
    } finally {
      await t.shutdown();
    }
  });

  it('basic auth from TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH (a password may hold colons)', async () => {
    const t = await startReady({ env: { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'prom:pa:ss word' } });
    try {
      const none = await get(t.url!);
      expect(none.status).to.equal(401);
      expect(none.headers['www-authenticate']).to.equal('Basic realm="metrics", charset="UTF-8"');
      expect((await get(t.url!, { Authorization: basic('prom', 'pa:ss') })).status).to.equal(401);
      expect((await get(t.url!, { Authorization: basic('other', 'pa:ss word') })).status).to.equal(401);
      expect((await get(t.url!, { Authorization: 'Bearer pa:ss word' })).status).to.equal(401);
      expect((await get(t.url!, { Authorization: basic('prom', 'pa:ss word') })).status).to.equal(200);
    } finally {
      await t.shutdown();
    }
  });

  it('without credentials configured the endpoint stays open', async () => {
    const t = await startReady({ env: {} });
    try {
      expect((await get(t.url!)).status).to.equal(200);
    } finally {
      await t.shutdown();
    }
  });

  it('empty or malformed credentials fail start-up naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: '' }, /TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN/],
      [{ TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: 'two words' }, /TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN/],
      [{ TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: '' }, /TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH/],
      [
        { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'nopassword' },
        /TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH must be user:password/,
      ],
      [{ TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'user:' }, /TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH/],
      [{ TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: ':password' }, /TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH/],
    ];
    for (const [env, message] of bad) {
      expect(() => startTelemetry({ env, prometheus: { port: 0 } }), JSON.stringify(env)).to.throw(
        TelemetryConfigError,
        message,
      );
    }
    expect(() => startTelemetry({ prometheus: { port: 0, auth: {} } })).to.throw(
      TelemetryConfigError,
      /options.prometheus.auth/,
    );
    expect(() => startTelemetry({ prometheus: { port: 0, auth: { bearerToken: '' } } })).to.throw(
      TelemetryConfigError,
      /bearerToken/,
    );
    expect(() =>
      startTelemetry({ prometheus: { port: 0, auth: { basic: { username: 'a:b', password: 'x' } } } }),
    ).to.throw(TelemetryConfigError, /username/);
  });
});

describe('core: a real Prometheus scrapes a protected endpoint, with gzip', function () {
  this.timeout(90_000);

  it('bearer (authorization) and basic_auth jobs are up and store the recorded values', async function () {
    requirePrometheus(this);
    const bearer = await startReady({ prometheus: { auth: { bearerToken: 'prom-token' } } });
    const basicT = await startReady({ prometheus: { auth: { basic: { username: 'prom', password: 'prom pass' } } } });
    bearer.metrics.recordCacheUpload(11);
    basicT.metrics.recordCacheUpload(22);
    const hostOf = (t: Telemetry) => `127.0.0.1:${t.port}`;
    const prom = await startPrometheus({
      targets: [hostOf(bearer)],
      job: 'bearer',
      jobConfig: ['authorization:', '  credentials: prom-token'],
      extraJobs: [
        {
          job: 'basic',
          targets: [hostOf(basicT)],
          config: ['basic_auth:', '  username: prom', '  password: prom pass'],
        },
      ],
    });
    try {
      const byJob = async (job: string) =>
        (await prom.vector(`tuist_cache_uploaded_bytes{job="${job}"}`)).map((s) => Number(s.value[1]));
      expect(await byJob('bearer')).to.deep.equal([11]);
      expect(await byJob('basic')).to.deep.equal([22]);
      // Prometheus asks every target for gzip; the full exposition arrived intact.
      const names = await prom.metricNames();
      for (const n of ['tuist_cache_events_total', 'tuist_application_info', 'tuist_projects_total'])
        expect(names).to.include(n);
      const events = await prom.vector('tuist_cache_events_total{job="basic"}');
      expect(events.map((s) => s.metric.event_type).sort()).to.deep.equal(['local_hit', 'miss', 'remote_hit']);
    } finally {
      await prom.stop();
      await bearer.shutdown();
      await basicT.shutdown();
    }
  });
});
