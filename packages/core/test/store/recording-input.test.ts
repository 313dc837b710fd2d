// Recording never throws into the host: values that are not finite numbers, labels that are not strings, records
// whose getters or traps throw are dropped or normalised with a warning.
import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { parseExposition, samples, scrape, value } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { expectPromtoolParses, keepingLogger } from '../helpers/index.js';

/** Values that are not finite numbers but pass `>= 0` or break `String()`: each must be dropped, never thrown. */
function hostileValues(): unknown[] {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    '2.5',
    '',
    [5],
    [],
    true,
    false,
    null,
    new Date(5),
    Symbol('s'),
    5n,
    { valueOf: () => 5 },
    {
      valueOf() {
        throw new Error('valueOf');
      },
    },
    {
      toString() {
        throw new Error('toString');
      },
      valueOf() {
        throw new Error('valueOf');
      },
    },
    Object.create(null),
    new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    ),
    revoked.proxy,
    () => 5,
  ];
}

/** An object whose every property read throws (getters and Proxy traps alike). */
function throwingRecord(): object {
  return new Proxy(
    {},
    {
      get() {
        throw new Error('get trap');
      },
      has() {
        throw new Error('has trap');
      },
    },
  );
}

describe('core: hostile input (issue 15 items 1, 2, 4)', () => {
  let t: Telemetry;
  const warnings: string[] = [];
  before(async () => {
    diag.setLogger(keepingLogger(warnings).logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await t.ready();
    t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 100 });
    t.metrics.recordJob({ queue: 'q', worker: 'w', state: 'success', durationMs: 7 });
    t.metrics.recordCacheUpload(1.5);
    t.metrics.recordCacheEvent('miss', 1);
    t.store.gauge('tuist_projects_total').set(4);
  });
  after(async () => {
    await t.shutdown();
    diag.disable();
  });

  it('records only finite numbers: strings, arrays, booleans, Dates, objects and Symbols are dropped, earlier values intact', async function () {
    const m = t.metrics as unknown as Record<string, (...a: unknown[]) => void>;
    const counter = t.store.counter('tuist_cache_events_total');
    const histogram = t.store.histogram('tuist_runs_duration_milliseconds');
    const gauge = t.store.gauge('tuist_projects_total');
    for (const v of hostileValues()) {
      expect(() => m.recordCacheUpload!(v), String(typeof v)).to.not.throw();
      expect(() => m.recordCacheDownload!(v)).to.not.throw();
      expect(() => m.recordCacheEvent!('miss', v)).to.not.throw();
      expect(() => m.recordRun!({ name: 'build', isCi: true, status: 0, durationMs: v })).to.not.throw();
      expect(() => m.recordJob!({ queue: 'q', worker: 'w', state: 'success', durationMs: v })).to.not.throw();
      expect(() => (counter.add as (...a: unknown[]) => void)(v, { event_type: 'miss' })).to.not.throw();
      expect(() =>
        (histogram.record as (...a: unknown[]) => void)(v, { name: 'build', is_ci: 'true', status: '0' }),
      ).to.not.throw();
      expect(() => (gauge.set as (...a: unknown[]) => void)(v)).to.not.throw();
    }
    // Correct calls after the bad ones still add up as numbers (on the old code '2.5' turned the series into text).
    t.metrics.recordCacheUpload(2);
    for (let i = 0; i < 20; i++) t.metrics.recordCacheEvent('miss');
    const body = await t.renderPrometheus();
    const exp = parseExposition(body);
    const run = { name: 'build', is_ci: 'true', status: '0' };
    expect(value(exp, 'tuist_cache_uploaded_bytes')).to.equal(3.5);
    expect(value(exp, 'tuist_cache_downloaded_bytes')).to.equal(0);
    expect(value(exp, 'tuist_cache_events_total', { event_type: 'miss' })).to.equal(21);
    expect(value(exp, 'tuist_runs_duration_milliseconds_count', run)).to.equal(1);
    expect(value(exp, 'tuist_runs_duration_milliseconds_sum', run)).to.equal(100);
    expect(value(exp, 'tuist_job_processing_duration_milliseconds_count', { queue: 'q' })).to.equal(1);
    expect(value(exp, 'tuist_job_processing_duration_milliseconds_sum', { queue: 'q' })).to.equal(7);
    expect(value(exp, 'tuist_projects_total')).to.equal(4);
    for (const line of body.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const v = line.slice(line.lastIndexOf(' ') + 1);
      expect(v, line).to.match(/^(-?[0-9.e+-]+|\+Inf|NaN)$/);
    }
    expectPromtoolParses(this, body);
    expect(warnings.some((w) => w.includes('tuist_cache_uploaded_bytes: dropped an increment of "2.5"'))).to.equal(
      true,
    );
    expect(warnings.some((w) => w.includes('tuist_runs_duration_milliseconds: dropped a value of "2.5"'))).to.equal(
      true,
    );
  });

  it('never throws for records whose getters or Proxy traps throw, nor for an event type whose toString throws', async () => {
    const m = t.metrics as unknown as Record<string, (...a: unknown[]) => void>;
    const run = { name: 'build', is_ci: 'true', status: '0' };
    const runsBefore = value(parseExposition(await t.renderPrometheus()), 'tuist_runs_total', run);
    const getter = (key: string) =>
      Object.defineProperty(
        {
          name: 'build',
          isCi: true,
          status: 0,
          queue: 'q',
          worker: 'w',
          state: 's',
          durationMs: 1,
          cliVersion: '1',
          reason: 'r',
        },
        key,
        {
          get() {
            throw new Error(`getter ${key}`);
          },
        },
      );
    const keys: Record<string, string[]> = {
      recordRun: ['name', 'isCi', 'status', 'durationMs'],
      recordJob: ['queue', 'worker', 'state', 'durationMs'],
      recordTokenRefreshError: ['cliVersion', 'reason'],
    };
    for (const method of Object.keys(keys)) {
      expect(() => m[method]!(throwingRecord()), method).to.not.throw();
      for (const key of keys[method]!) {
        expect(() => m[method]!(getter(key)), `${method} ${key}`).to.not.throw();
      }
    }
    const evilType = {
      toString() {
        throw new Error('toString');
      },
      [Symbol.toPrimitive]() {
        throw new Error('toPrimitive');
      },
    };
    expect(() => m.recordCacheEvent!(evilType)).to.not.throw();
    expect(() => m.recordCacheEvent!(Symbol('miss'))).to.not.throw();
    expect(() => m.recordRun!({ name: Symbol('n'), isCi: Symbol('c'), status: Symbol('s') })).to.not.throw();
    expect(() => m.recordRun!({ name: 'build', isCi: true, status: evilType })).to.not.throw();
    expect(() => t.store.counter('tuist_cache_events_total').add(1, throwingRecord() as never)).to.not.throw();
    expect(() => t.store.gauge('tuist_repo_pool_db_connection_connected' as never)).to.throw(/not a gauge/);
    expect(() => t.store.gauge('tuist_application_info').remove(throwingRecord() as never)).to.not.throw();
    // A throwing getter on `durationMs` drops the whole run: no count without its duration.
    const exp = parseExposition(await t.renderPrometheus());
    expect(value(exp, 'tuist_runs_total', run)).to.equal(runsBefore);
    expect(warnings.some((w) => w.includes('recordRun: reading the record threw (get trap)'))).to.equal(true);
    expect(warnings.some((w) => w.includes('recordCacheEvent: unknown event type an object'))).to.equal(true);
  });

  it('a label getter that answers differently on each read never makes two series with the same labels', async function () {
    // The reads of one label, in order; past the script it answers 'fickle-z'.
    const script = ['fickle-x', 'fickle-y', 'fickle-z', 'fickle-q', 'fickle-z', 'fickle-z'];
    let n = 0;
    const fickle = Object.defineProperty({ is_ci: 'false', status: '1' }, 'name', {
      get: () => script[n++] ?? 'fickle-z',
      enumerable: true,
    });
    for (let i = 0; i < 10; i++) t.store.counter('tuist_runs_total').add(1, fickle as never);
    const fickleSeries = [...t.store.counter('tuist_runs_total').series].filter((s) =>
      s.labelValues[0]!.startsWith('fickle-'),
    );
    const names = fickleSeries.map((s) => s.labelValues.join(','));
    expect(names.length).to.be.within(1, 3);
    expect(new Set(names).size, names.join(' ')).to.equal(names.length);
    expect(fickleSeries.reduce((a, s) => a + s.value, 0)).to.equal(10);
    const body = await t.renderPrometheus();
    expect(samples(parseExposition(body), 'tuist_runs_total', { is_ci: 'false', status: '1' })).to.have.length(
      names.length,
    );
    expectPromtoolParses(this, body);
  });

  it('a polled callback that throws an object whose toString throws is a warning, not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      const stop = t.metrics.observeProjectsTotal(() => {
        throw {
          toString() {
            throw new Error('toString');
          },
        };
      });
      await new Promise((r) => setTimeout(r, 20));
      stop();
      const stop2 = t.metrics.observeProjectsTotal(() => Symbol('x') as never);
      await new Promise((r) => setTimeout(r, 20));
      stop2();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).to.deep.equal([]);
    expect(warnings.some((w) => w.includes('observeProjectsTotal: the callback failed (an object)'))).to.equal(true);
    expect(value(parseExposition(await t.renderPrometheus()), 'tuist_projects_total')).to.equal(4);
  });

  it('label values that differ only in unpaired surrogates are one series (the bytes on the wire are the same)', async function () {
    const m = t.metrics;
    for (const v of ['a\uD800', 'a\uDBFF', 'a\uFFFD', 'a\uDC00', 'a\uD800', 'a\uFFFD'])
      m.recordTokenRefreshError({ cliVersion: v, reason: 'surrogate' });
    // Straight into the store, where the fast path looks up raw strings.
    for (let i = 0; i < 4; i++)
      t.store
        .counter('tuist_authentication_token_refresh_error_total')
        .add(1, { cli_version: 'a\uDFFF', reason: 'surrogate' });
    // A truncated value never ends in half a surrogate pair.
    const long = 'x'.repeat(1023) + '\u{1F600}';
    m.recordTokenRefreshError({ cliVersion: long, reason: 'surrogate-long' });
    m.recordTokenRefreshError({ cliVersion: long + 'tail', reason: 'surrogate-long' });
    const body = await t.renderPrometheus();
    const exp = parseExposition(body);
    const got = samples(exp, 'tuist_authentication_token_refresh_error_total', { reason: 'surrogate' });
    expect(got.map((s) => [s.labels.cli_version, s.value])).to.deep.equal([['a\uFFFD', 10]]);
    const longs = samples(exp, 'tuist_authentication_token_refresh_error_total', { reason: 'surrogate-long' });
    expect(longs.map((s) => [s.labels.cli_version, s.value])).to.deep.equal([['x'.repeat(1023), 2]]);
    expect(t.store.counter('tuist_authentication_token_refresh_error_total').series.size).to.equal(
      new Set(
        [...t.store.counter('tuist_authentication_token_refresh_error_total').series].map((s) =>
          s.labelValues.join('\u0000'),
        ),
      ).size,
    );
    expectPromtoolParses(this, body);
    expect(warnings.some((w) => w.includes('unpaired UTF-16 surrogate'))).to.equal(true);
  });
});

describe('core: bad input never reaches the host as an exception', () => {
  let t: Telemetry;
  const warnings: string[] = [];
  before(async () => {
    diag.setLogger(keepingLogger(warnings).logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
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
