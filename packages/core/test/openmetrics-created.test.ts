import { expect } from 'chai';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { resolveConfig } from '../src/config/index.js';
import { expectStrictOpenMetrics } from './openmetrics-strict.js';
import { expectPromtoolParses } from './promtool.js';

const OM = 'application/openmetrics-text;version=1.0.0';

async function scrape(t: Telemetry, accept: string): Promise<string> {
  const res = await fetch(t.url!, { headers: { Accept: accept } });
  expect(res.status).to.equal(200);
  return res.text();
}

/** The value of the one sample line starting with `head`. */
function sample(body: string, head: string): number {
  const lines = body.split('\n').filter((l) => l.startsWith(head));
  expect(lines, head).to.have.length(1);
  return Number(lines[0]!.slice(lines[0]!.lastIndexOf(' ') + 1));
}

describe('core: OpenMetrics `_created` samples on request (issue 21 item 3)', () => {
  it('TUIST_TELEMETRY_OPENMETRICS_CREATED (or prometheus.withCreated) turns them on; off by default', () => {
    expect(resolveConfig({ env: {} }).prometheus.withCreated).to.equal(false);
    expect(resolveConfig({ env: { TUIST_TELEMETRY_OPENMETRICS_CREATED: 'true' } }).prometheus.withCreated).to.equal(
      true,
    );
    expect(resolveConfig({ env: {}, prometheus: { withCreated: true } }).prometheus.withCreated).to.equal(true);
    expect(() => resolveConfig({ env: { TUIST_TELEMETRY_OPENMETRICS_CREATED: 'on' } })).to.throw(
      /TUIST_TELEMETRY_OPENMETRICS_CREATED must be true or false/,
    );
  });

  it('counters with _total and histograms get `<family>_created` per series, in seconds; untyped counters and text 0.0.4 none', async function () {
    const before = Date.now();
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', withCreated: true },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      env: {},
    });
    const started = Date.now();
    try {
      await t.ready();
      await new Promise((r) => setTimeout(r, 20));
      const recorded = Date.now();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      t.metrics.recordCacheUpload(5);
      const after = Date.now();
      const om = await scrape(t, OM);
      expectStrictOpenMetrics(om);
      expectPromtoolParses(this, om);
      const labels = '{name="build",is_ci="true",status="0"}';
      expect(sample(om, `tuist_runs_created${labels} `) * 1000).to.be.within(recorded - 1, after + 1);
      expect(sample(om, `tuist_runs_duration_milliseconds_created${labels} `) * 1000).to.be.within(
        recorded - 1,
        after + 1,
      );
      // An unlabelled counter that exists from start-up: created at start-up.
      expect(sample(om, 'tuist_cache_uploads_created ') * 1000).to.be.within(before - 1, started + 1);
      // A documented counter without `_total` is served untyped in OpenMetrics: no `_created`. Every `_created`
      // sample belongs to a counter or histogram family, and every series of those has one.
      expect(om).to.not.contain('tuist_cache_uploaded_bytes_created');
      const typed = new Map([...om.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      const created = om.split('\n').filter((l) => /^\w+_created[{ ]/.test(l));
      for (const l of created) expect(['counter', 'histogram'], l).to.include(typed.get(/^(\w+)_created/.exec(l)![1]!));
      const series = om.split('\n').filter((l) => /^\w+_total[{ ]/.test(l) || /^\w+_count[{ ]/.test(l));
      expect(created.length).to.equal(
        series.filter((l) =>
          ['counter', 'histogram'].includes(typed.get(/^(\w+?)_(total|count)[{ ]/.exec(l)![1]!) ?? ''),
        ).length,
      );
      expect(await scrape(t, 'text/plain')).to.not.contain('_created');
    } finally {
      await t.shutdown();
    }
  });

  it('off: no `_created` sample', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      env: {},
    });
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      expect(await scrape(t, OM)).to.not.contain('_created');
    } finally {
      await t.shutdown();
    }
  });
});
