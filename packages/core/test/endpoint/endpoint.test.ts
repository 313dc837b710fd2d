import { expect } from 'chai';
import type http from 'node:http';
import { diag } from '@opentelemetry/api';
import { captureDiag, parseExposition, scrape, value, samples } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { send } from '../helpers/index.js';

/** One request, its body as text. */
async function request(
  url: string,
  method: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const r = await send(url, { method });
  return { ...r, body: r.body.toString('utf8') };
}

describe('core: the Prometheus endpoint', () => {
  let t: Telemetry;
  before(async () => {
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await t.ready();
  });
  after(() => t.shutdown());

  it('serves GET /metrics with the 0.0.4 content type', async () => {
    const r = await request(t.url!, 'GET');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).to.contain('# TYPE tuist_runs_total counter');
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await request(t.url!, 'HEAD');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(Number(r.headers['content-length'])).to.be.greaterThan(0);
    expect(r.body).to.equal('');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await request(t.url!.replace('/metrics', '/'), 'GET')).status).to.equal(404);
    expect((await request(t.url!.replace('/metrics', '/metricsx'), 'GET')).status).to.equal(404);
    const post = await request(t.url!, 'POST');
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
  });

  it('serves HELP and TYPE for every catalog metric and zeros for unlabelled counters and gauges from start-up', async () => {
    const exp = await scrape(t.url!);
    for (const name of [
      'tuist_cache_uploads_total',
      'tuist_cache_uploaded_bytes',
      'tuist_previews_downloads_total',
      'tuist_projects_total',
      'tuist_accounts_users_total',
      'tuist_repo_pool_db_connection_connected',
    ]) {
      expect(value(exp, name), name).to.equal(0);
    }
    for (const ev of ['local_hit', 'remote_hit', 'miss'])
      expect(value(exp, 'tuist_cache_events_total', { event_type: ev })).to.equal(0);
    expect(exp.get('tuist_runs_duration_milliseconds')!.type).to.equal('histogram');
    expect(exp.get('tuist_runs_total')!.help).to.equal('Total number of Tuist runs.');
  });

  it('escapes label values so they round-trip through a parser', async () => {
    const nasty = 'a "quoted" back\\slash\nnew line ü 🚀';
    t.metrics.recordTokenRefreshError({ cliVersion: '4.1.0', reason: nasty });
    const exp = await scrape(t.url!);
    expect(value(exp, 'tuist_authentication_token_refresh_error_total', { reason: nasty })).to.equal(1);
  });

  it('histograms are cumulative with +Inf, _sum and _count', async () => {
    for (const ms of [50, 150, 150, 3000, 2_000_000])
      t.metrics.recordRun({ name: 'generate', isCi: false, status: 0, durationMs: ms });
    const exp = await scrape(t.url!);
    const l = { name: 'generate', is_ci: 'false', status: '0' };
    expect(value(exp, 'tuist_runs_duration_milliseconds_bucket', { ...l, le: '100' })).to.equal(1);
    expect(value(exp, 'tuist_runs_duration_milliseconds_bucket', { ...l, le: '200' })).to.equal(3);
    expect(value(exp, 'tuist_runs_duration_milliseconds_bucket', { ...l, le: '3200' })).to.equal(4);
    expect(value(exp, 'tuist_runs_duration_milliseconds_bucket', { ...l, le: '1638400' })).to.equal(4);
    expect(value(exp, 'tuist_runs_duration_milliseconds_bucket', { ...l, le: '+Inf' })).to.equal(5);
    expect(value(exp, 'tuist_runs_duration_milliseconds_sum', l)).to.equal(50 + 150 + 150 + 3000 + 2_000_000);
    expect(value(exp, 'tuist_runs_duration_milliseconds_count', l)).to.equal(5);
  });

  it('scrapes are read-only: repeated scrapes return the same cumulative values', async () => {
    t.metrics.recordCacheUpload(10);
    const a = await scrape(t.url!);
    const b = await scrape(t.url!);
    expect(value(b, 'tuist_cache_uploaded_bytes')).to.equal(value(a, 'tuist_cache_uploaded_bytes'));
    t.metrics.recordCacheUpload(5);
    const c = await scrape(t.url!);
    expect(value(c, 'tuist_cache_uploaded_bytes')).to.equal(value(a, 'tuist_cache_uploaded_bytes') + 5);
  });

  it('serves third-party OTel instruments of the same MeterProvider, sanitised the Prometheus way, without scope labels', async () => {
    const meter = t.meterProvider.getMeter('my-lib', '1.2.3');
    meter.createCounter('my.lib.requests').add(3, { 'http.route': '/x' });
    meter.createHistogram('my.lib.duration', { advice: { explicitBucketBoundaries: [1, 10] } }).record(5);
    meter.createUpDownCounter('my.lib.inflight').add(-2);
    meter.createObservableGauge('my.lib.temperature').addCallback((r) => r.observe(21.5));
    const exp = await scrape(t.url!);
    expect(exp.get('my_lib_requests_total')!.type).to.equal('counter');
    expect(value(exp, 'my_lib_requests_total', { http_route: '/x' })).to.equal(3);
    expect(value(exp, 'my_lib_duration_bucket', { le: '10' })).to.equal(1);
    expect(value(exp, 'my_lib_inflight')).to.equal(-2);
    expect(exp.get('my_lib_inflight')!.type).to.equal('gauge');
    expect(value(exp, 'my_lib_temperature')).to.equal(21.5);
    for (const f of exp.values())
      for (const s of f.samples) expect(Object.keys(s.labels)).to.not.include('otel_scope_name');
    expect(exp.has('target_info')).to.equal(false);
  });

  it('a third-party instrument that collides with a catalog name is not served twice', async () => {
    t.meterProvider.getMeter('rogue').createCounter('tuist_runs_total').add(100);
    const logged = captureDiag(diag);
    const exp = await scrape(t.url!).finally(() => logged.restore());
    expect(logged.matching(/^warn: .*"tuist_runs_total"/), 'the collision is reported').to.have.length(1);
    const types = exp.get('tuist_runs_total')!;
    expect(types.type).to.equal('counter');
    expect(samples(exp, 'tuist_runs_total').every((s) => s.value < 100)).to.equal(true);
  });
});

describe('core: opt-in scope labels and target_info', () => {
  it('adds otel_scope_name/version and target_info when asked', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', withScopeLabels: true, withTargetInfo: true },
      serviceName: 'scoped',
      runtimeMetrics: false,
    });
    try {
      await t.ready();
      t.meterProvider.getMeter('lib-a', '9.9.9').createCounter('a.count').add(1);
      const exp = await scrape(t.url!);
      expect(samples(exp, 'a_count_total', { otel_scope_name: 'lib-a', otel_scope_version: '9.9.9' })).to.have.length(
        1,
      );
      expect(samples(exp, 'tuist_cache_uploads_total', { otel_scope_name: '@tuist-telemetry/core' })).to.have.length(1);
      expect(value(exp, 'target_info', { service_name: 'scoped' })).to.equal(1);
    } finally {
      await t.shutdown();
    }
  });
});

describe('core: the exposition parser used by the tests', () => {
  it('rejects malformed input', () => {
    expect(() => parseExposition('x 1')).to.throw(/newline/);
    expect(() => parseExposition('x 1\n')).to.throw(/no TYPE/);
    expect(() => parseExposition('# TYPE x counter\nx{a="b} 1\n')).to.throw();
    expect(() => parseExposition('# TYPE x counter\nx{a="\\q"} 1\n')).to.throw(/escape/);
    expect(() => parseExposition('# TYPE x counter\n# TYPE x counter\n')).to.throw(/second TYPE/);
  });
});
