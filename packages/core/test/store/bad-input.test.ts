import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { scrape, value, samples } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';

describe('core: bad input never reaches the host as an exception', () => {
  let t: Telemetry;
  const warnings: string[] = [];
  before(async () => {
    const capture: DiagLogger = {
      error: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
      warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    };
    diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await t.ready();
    // Something recorded before the bad input, which must survive it.
    t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 100 });
    t.metrics.recordCacheUpload(1000);
  });
  after(async () => {
    await t.shutdown();
    diag.disable();
  });

  it('drops NaN, Infinity and negative values, keeps what was recorded, warns once per kind', async () => {
    const m = t.metrics;
    const before = warnings.length;
    for (let i = 0; i < 100; i++) {
      m.recordRun({ name: 'build', isCi: true, status: 0, durationMs: NaN });
      m.recordRun({ name: 'build', isCi: true, status: 0, durationMs: -5 });
      m.recordRun({ name: 'build', isCi: true, status: 0, durationMs: Infinity });
      m.recordCacheUpload(-1);
      m.recordCacheDownload(NaN);
      m.recordCacheEvent('miss', -3);
    }
    const exp = await scrape(t.url!);
    const l = { name: 'build', is_ci: 'true', status: '0' };
    expect(value(exp, 'tuist_runs_duration_milliseconds_count', l)).to.equal(1);
    expect(value(exp, 'tuist_runs_duration_milliseconds_sum', l)).to.equal(100);
    expect(value(exp, 'tuist_runs_total', l)).to.equal(301);
    expect(value(exp, 'tuist_cache_uploaded_bytes')).to.equal(1000);
    expect(value(exp, 'tuist_cache_downloaded_bytes')).to.equal(0);
    expect(value(exp, 'tuist_cache_events_total', { event_type: 'miss' })).to.equal(0);
    const added = warnings.slice(before);
    expect(added.length, added.join('\n')).to.be.within(3, 6);
    expect(added.some((w) => w.includes('tuist_runs_duration_milliseconds') && w.includes('NaN'))).to.equal(true);
  });

  it('unknown cache event types and bad run statuses are dropped with a warning', async () => {
    const m = t.metrics;
    m.recordCacheEvent('hit' as never);
    m.recordRun({ name: 'build', isCi: false, status: 7 as never, durationMs: 1 });
    const exp = await scrape(t.url!);
    expect(
      samples(exp, 'tuist_cache_events_total')
        .map((s) => s.labels.event_type)
        .sort(),
    ).to.deep.equal(['local_hit', 'miss', 'remote_hit']);
    expect(samples(exp, 'tuist_runs_total', { is_ci: 'false' })).to.have.length(0);
    expect(warnings.some((w) => w.includes('unknown event type "hit"'))).to.equal(true);
    expect(warnings.some((w) => w.includes('status must be 0 (success) or 1 (failure)'))).to.equal(true);
  });

  it('normalises non-string, missing and enormous label values', async () => {
    const m = t.metrics;
    m.recordTokenRefreshError({ cliVersion: 4 as never, reason: { evil: true } as never });
    m.recordTokenRefreshError({} as never);
    m.recordTokenRefreshError({ cliVersion: '1.0.0', reason: 'x'.repeat(100_000) });
    expect(() => m.recordTokenRefreshError(undefined as never)).to.not.throw();
    expect(() => m.recordRun(null as never)).to.not.throw();
    expect(() => m.recordJob('nope' as never)).to.not.throw();
    const exp = await scrape(t.url!);
    expect(
      value(exp, 'tuist_authentication_token_refresh_error_total', { cli_version: '4', reason: 'invalid' }),
    ).to.equal(1);
    expect(
      value(exp, 'tuist_authentication_token_refresh_error_total', { cli_version: 'unknown', reason: 'unknown' }),
    ).to.equal(1);
    const long = samples(exp, 'tuist_authentication_token_refresh_error_total', { cli_version: '1.0.0' });
    expect(long).to.have.length(1);
    expect(long[0]!.labels.reason).to.have.length(1024);
  });

  it('label objects with throwing getters do not throw', () => {
    const evil = Object.defineProperty({}, 'event_type', {
      get() {
        throw new Error('boom');
      },
    });
    expect(() => t.store.counter('tuist_cache_events_total').add(1, evil as never)).to.not.throw();
  });

  it('an unknown catalog name is a programming error found at start-up', () => {
    expect(() => t.store.counter('tuist_nope')).to.throw(/"tuist_nope" is not a counter of the catalog/);
    expect(() => t.store.histogram('tuist_runs_total')).to.throw(/not a histogram/);
  });
});
