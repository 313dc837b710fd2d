import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { captureDiag, samples, scrape, value } from '@tuist-telemetry/testing';
import { startTelemetry, type JobRecord, type Telemetry } from '@tuist-telemetry/core';
import { JOB_BUCKETS } from '@tuist-telemetry/core/internal';

const JOBS = 'tuist_job_processing_duration_milliseconds';

describe('core: application info and background jobs', () => {
  let t: Telemetry;

  before(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      serviceVersion: '4.2.0',
      env: { OTEL_SERVICE_NAME: 'tuist-jobs-test' },
    });
    await t.ready();
  });
  after(() => t.shutdown());

  it('tuist_application_info{service_name, version, node_version} is 1', async () => {
    const exp = await scrape(t.url!);
    expect(exp.get('tuist_application_info')!.type).to.equal('gauge');
    const s = samples(exp, 'tuist_application_info');
    expect(s).to.have.length(1);
    expect(s[0]!.labels).to.deep.equal({
      service_name: 'tuist-jobs-test',
      version: '4.2.0',
      node_version: process.versions.node,
    });
    expect(s[0]!.value).to.equal(1);
  });

  it('application info falls back to npm_package_version, then `unknown`', async () => {
    for (const [env, version] of [
      [{ npm_package_version: '1.2.3' }, '1.2.3'],
      [{}, 'unknown'],
    ] as const) {
      const other = startTelemetry({
        prometheus: { port: 0, host: '127.0.0.1' },
        runtimeMetrics: false,
        setGlobalMeterProvider: false,
        env,
      });
      try {
        await other.ready();
        const exp = await scrape(other.url!);
        expect(samples(exp, 'tuist_application_info')[0]!.labels).to.deep.equal({
          service_name: 'tuist-server',
          version,
          node_version: process.versions.node,
        });
      } finally {
        await other.shutdown();
      }
    }
  });

  it('recordJob times jobs by queue, worker and state with the job buckets', async () => {
    t.metrics.recordJob({ queue: 'default', worker: 'Tuist.Workers.CleanCache', state: 'success', durationMs: 50 });
    t.metrics.recordJob({ queue: 'default', worker: 'Tuist.Workers.CleanCache', state: 'success', durationMs: 45_000 });
    t.metrics.recordJob({
      queue: 'mailers',
      worker: 'Tuist.Workers.SendEmail',
      state: 'failure',
      durationMs: 2_000_000,
    });
    const exp = await scrape(t.url!);
    expect(exp.get(JOBS)!.type).to.equal('histogram');
    const ok = { queue: 'default', worker: 'Tuist.Workers.CleanCache', state: 'success' };
    expect(value(exp, `${JOBS}_count`, ok)).to.equal(2);
    expect(value(exp, `${JOBS}_sum`, ok)).to.equal(45_050);
    expect(value(exp, `${JOBS}_bucket`, { ...ok, le: '10' })).to.equal(0);
    expect(value(exp, `${JOBS}_bucket`, { ...ok, le: '100' })).to.equal(1);
    expect(value(exp, `${JOBS}_bucket`, { ...ok, le: '20000' })).to.equal(1);
    expect(value(exp, `${JOBS}_bucket`, { ...ok, le: '60000' })).to.equal(2);
    const failed = { queue: 'mailers', worker: 'Tuist.Workers.SendEmail', state: 'failure' };
    expect(value(exp, `${JOBS}_bucket`, { ...failed, le: '1800000' })).to.equal(0);
    expect(value(exp, `${JOBS}_bucket`, { ...failed, le: '+Inf' })).to.equal(1);
    const les = samples(exp, `${JOBS}_bucket`, ok).map((s) => s.labels.le);
    expect(les).to.deep.equal([...JOB_BUCKETS.map(String), '+Inf']);
    expect(JOB_BUCKETS).to.deep.equal([10, 100, 500, 1000, 5000, 20000, 60000, 300000, 600000, 1800000]);
    for (const s of samples(exp, `${JOBS}_count`))
      expect(Object.keys(s.labels).sort()).to.deep.equal(['queue', 'state', 'worker']);
  });

  it('recordJob never throws: bad durations and records are dropped, missing labels become `unknown`', async () => {
    const before = await scrape(t.url!);
    const count = (exp: typeof before): number => samples(exp, `${JOBS}_count`).reduce((a, s) => a + s.value, 0);
    const bad: unknown[] = [
      null,
      'job',
      { queue: 'q', worker: 'w', state: 'success', durationMs: NaN },
      { queue: 'q', worker: 'w', state: 'success', durationMs: -1 },
      { queue: 'q', worker: 'w', state: 'success', durationMs: Infinity },
    ];
    const logged = captureDiag(diag);
    try {
      for (const job of bad) expect(() => t.metrics.recordJob(job as JobRecord)).to.not.throw();
      t.metrics.recordJob({ worker: 'w', durationMs: 5 } as unknown as JobRecord);
    } finally {
      logged.restore();
    }
    // Once per kind: the malformed records, the first bad duration, each missing label.
    expect(logged.lines).to.deep.equal([
      'warn: @tuist-telemetry/core recordJob: expected { queue, worker, state, durationMs }; dropped',
      'warn: @tuist-telemetry/core tuist_job_processing_duration_milliseconds: dropped a value of NaN (histograms here take finite numbers >= 0)',
      'warn: @tuist-telemetry/core tuist_job_processing_duration_milliseconds: label "queue" is missing; recorded as "unknown"',
      'warn: @tuist-telemetry/core tuist_job_processing_duration_milliseconds: label "state" is missing; recorded as "unknown"',
    ]);
    const exp = await scrape(t.url!);
    expect(count(exp)).to.equal(count(before) + 1);
    expect(value(exp, `${JOBS}_count`, { queue: 'unknown', worker: 'w', state: 'unknown' })).to.equal(1);
  });
});
