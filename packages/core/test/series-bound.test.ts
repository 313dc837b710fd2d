import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { parseExposition, samples, value } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import { OVERFLOW_VALUE } from '@tuist-telemetry/core/internal';

// Issue 20 item 5: the label bound is per label, so label products explode (1,000 queues x 300 workers = 300,000
// series). A bound on series per metric sends new label sets past it to one all-`__overflow__` series.

const warnings: string[] = [];
const capture: DiagLogger = {
  error: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
  warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

function start(options: TelemetryOptions = {}): Telemetry {
  return startTelemetry({
    prometheus: { port: 0, host: '127.0.0.1' },
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
    ...options,
  });
}

const JOB = 'tuist_job_processing_duration_milliseconds';

describe('core: a bound on series per catalog metric (issue 20 item 5)', () => {
  beforeEach(() => {
    warnings.length = 0;
    diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  afterEach(() => diag.disable());

  it('recordJob with 1,000 queues x 300 workers keeps 2,000 series (default) plus one all-__overflow__ series, and loses no count', async () => {
    const t = start();
    try {
      const QUEUES = 1000;
      const WORKERS = 300;
      for (let q = 0; q < QUEUES; q++) {
        for (let w = 0; w < WORKERS; w++)
          t.metrics.recordJob({ queue: `queue-${q}`, worker: `worker-${w}`, state: 'completed', durationMs: 3 });
      }
      const family = t.store.families.find((f) => f.name === JOB)!;
      expect(family.series.size).to.equal(2001);
      const exp = parseExposition(await t.renderPrometheus());
      const counts = samples(exp, `${JOB}_count`);
      expect(counts).to.have.length(2001);
      expect(counts.reduce((a, s) => a + s.value, 0)).to.equal(QUEUES * WORKERS);
      const overflow = { queue: OVERFLOW_VALUE, worker: OVERFLOW_VALUE, state: OVERFLOW_VALUE };
      expect(value(exp, `${JOB}_count`, overflow)).to.equal(QUEUES * WORKERS - 2000);
      expect(value(exp, `${JOB}_sum`, overflow)).to.equal(3 * (QUEUES * WORKERS - 2000));
      expect(value(exp, `${JOB}_bucket`, { ...overflow, le: '+Inf' })).to.equal(QUEUES * WORKERS - 2000);
      // The series that exist keep being recorded in place, past the bound.
      t.metrics.recordJob({ queue: 'queue-0', worker: 'worker-0', state: 'completed', durationMs: 3 });
      const again = parseExposition(await t.renderPrometheus());
      expect(value(again, `${JOB}_count`, { queue: 'queue-0', worker: 'worker-0', state: 'completed' })).to.equal(2);
      expect(value(again, `${JOB}_count`, overflow)).to.equal(QUEUES * WORKERS - 2000);
      expect(value(again, 'tuist_telemetry_label_overflow_total', { metric: JOB, label: '__series__' })).to.equal(
        QUEUES * WORKERS - 2000,
      );
      // No label reached its own bound (1,000 values), so no per-label overflow is counted.
      expect(
        samples(again, 'tuist_telemetry_label_overflow_total').filter((s) => s.labels.metric === JOB),
      ).to.have.length(1);
      expect(
        warnings.filter((w) => w.includes(`${JOB}: reached 2000 series (TUIST_TELEMETRY_MAX_SERIES_PER_METRIC)`)),
      ).to.have.length(1);
    } finally {
      await t.shutdown();
    }
  });

  it('TUIST_TELEMETRY_MAX_SERIES_PER_METRIC and options.maxSeriesPerMetric set it; a label overflow and the series bound count apart', async () => {
    for (const options of [
      { env: { TUIST_TELEMETRY_MAX_SERIES_PER_METRIC: '10', TUIST_TELEMETRY_MAX_LABEL_VALUES: '2' } },
      { maxSeriesPerMetric: 10, maxLabelValues: 2 },
    ]) {
      const t = start(options);
      try {
        const runs = t.store.counter('tuist_runs_total');
        // name x is_ci x status: 6 names (2 kept, the rest __overflow__) x 2 x 2 = 24 runs.
        for (let i = 0; i < 6; i++)
          for (const isCi of [false, true])
            for (const status of [0, 1] as const)
              t.metrics.recordRun({ name: `run-${i}`, isCi, status, durationMs: 1 });
        expect(runs.series.size).to.equal(11);
        const exp = parseExposition(await t.renderPrometheus());
        const got = samples(exp, 'tuist_runs_total');
        expect(got).to.have.length(11);
        expect(got.reduce((a, s) => a + s.value, 0)).to.equal(24);
        // run-0 and run-1 take 8 series; run-2 to run-5 are name="__overflow__", which takes 2 more series (is_ci
        // false); their is_ci="true" runs are new label sets past the bound: the all-__overflow__ series.
        expect(value(exp, 'tuist_runs_total', { name: OVERFLOW_VALUE, is_ci: 'false', status: '0' })).to.equal(4);
        expect(value(exp, 'tuist_runs_total', { name: OVERFLOW_VALUE, is_ci: 'false', status: '1' })).to.equal(4);
        expect(
          value(exp, 'tuist_runs_total', { name: OVERFLOW_VALUE, is_ci: OVERFLOW_VALUE, status: OVERFLOW_VALUE }),
        ).to.equal(8);
        expect(
          value(exp, 'tuist_telemetry_label_overflow_total', { metric: 'tuist_runs_total', label: '__series__' }),
        ).to.equal(8);
        // The label bound counts the recordings kept in a series of their (bounded) label set: not those 8 again.
        expect(
          value(exp, 'tuist_telemetry_label_overflow_total', { metric: 'tuist_runs_total', label: 'name' }),
        ).to.equal(8);
      } finally {
        await t.shutdown();
      }
    }
  });

  it('a label set that the label bounds make all __overflow__ is the overflow series itself, never a second one', async () => {
    const t = start({ maxSeriesPerMetric: 3, maxLabelValues: 2 });
    try {
      const c = t.store.counter('tuist_http_queue_count');
      const rec = (method: string, host: string) => c.add(1, { request_method: method, request_host: host });
      rec('GET', 'a');
      rec('PUT', 'b');
      rec('GET', 'b');
      rec('POST', 'c'); // past the series bound: the all-__overflow__ series
      rec('DELETE', 'z'); // both labels past their bound: the same series
      rec('GET', 'a');
      const exp = parseExposition(await t.renderPrometheus());
      const got = samples(exp, 'tuist_http_queue_count');
      expect(got.map((s) => [s.labels.request_method, s.labels.request_host, s.value]).sort()).to.deep.equal([
        ['GET', 'a', 2],
        ['GET', 'b', 1],
        ['PUT', 'b', 1],
        [OVERFLOW_VALUE, OVERFLOW_VALUE, 2],
      ]);
      // Removing series makes room for a new label set (the overflow series counts as one of the 3).
      c.remove({ request_method: 'GET', request_host: 'b' });
      rec('PUT', 'a');
      expect(c.series.size).to.equal(3);
      c.remove({ request_method: 'PUT', request_host: 'b' });
      rec('PUT', 'a');
      const after = parseExposition(await t.renderPrometheus());
      expect(value(after, 'tuist_http_queue_count', { request_method: 'PUT', request_host: 'a' })).to.equal(1);
      expect(
        value(after, 'tuist_http_queue_count', { request_method: OVERFLOW_VALUE, request_host: OVERFLOW_VALUE }),
      ).to.equal(3);
    } finally {
      await t.shutdown();
    }
  });

  it('start-up refuses a bound that is not a positive integer, naming the variable', () => {
    expect(() => start({ env: { TUIST_TELEMETRY_MAX_SERIES_PER_METRIC: '0' } })).to.throw(
      /TUIST_TELEMETRY_MAX_SERIES_PER_METRIC/,
    );
    expect(() => start({ maxSeriesPerMetric: 1.5 })).to.throw(/options\.maxSeriesPerMetric/);
  });
});
