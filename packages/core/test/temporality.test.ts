import { expect } from 'chai';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { jsonMetrics, otlpReceiver, type JsonMetric } from './helpers/otlp.js';

const DELTA = 1;
const CUMULATIVE = 2;

type Preference = 'cumulative' | 'delta' | 'lowmemory';

/** Telemetry pushing OTLP/JSON to a local receiver only when flushed; `push()` records nothing and returns the export. */
async function pushing(preference: Preference | undefined, runtimeMetrics = false) {
  const rx = await otlpReceiver();
  const t: Telemetry = startTelemetry({
    runtimeMetrics,
    exportIntervalMs: 600_000,
    env: {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      ...(preference ? { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: preference } : {}),
    },
  });
  return {
    t,
    async push(): Promise<Map<string, JsonMetric>> {
      const next = rx.next();
      await t.forceFlush();
      return jsonMetrics((await next).body);
    },
    async close() {
      await t.shutdown();
      await rx.close();
    },
  };
}

const run = (t: Telemetry, durationMs: number) => t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs });
const runs = (m: Map<string, JsonMetric>) => m.get('tuist_runs_total')?.sum;
const durations = (m: Map<string, JsonMetric>) => m.get('tuist_runs_duration_milliseconds')?.histogram;

describe('core: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE for the catalog over OTLP (decoded exports)', () => {
  it('cumulative (the default): each export carries the totals since start', async () => {
    const p = await pushing(undefined);
    try {
      run(p.t, 100);
      run(p.t, 200);
      const first = await p.push();
      expect(runs(first)!.aggregationTemporality).to.equal(CUMULATIVE);
      expect(runs(first)!.dataPoints[0]!.asDouble).to.equal(2);
      run(p.t, 300);
      const second = await p.push();
      expect(runs(second)!.dataPoints[0]!.asDouble).to.equal(3);
      expect(Number(durations(second)!.dataPoints[0]!.count)).to.equal(3);
      expect(durations(second)!.dataPoints[0]!.sum).to.equal(600);
    } finally {
      await p.close();
    }
  });

  it('delta: each export carries what happened since the previous one; nothing new, no point', async () => {
    const p = await pushing('delta');
    try {
      run(p.t, 100);
      run(p.t, 200);
      const first = await p.push();
      expect(runs(first)!.aggregationTemporality).to.equal(DELTA);
      expect(runs(first)!.dataPoints[0]!.asDouble).to.equal(2);
      expect(durations(first)!.aggregationTemporality).to.equal(DELTA);
      expect(Number(durations(first)!.dataPoints[0]!.count)).to.equal(2);
      run(p.t, 300);
      const second = await p.push();
      expect(runs(second)!.dataPoints[0]!.asDouble).to.equal(1);
      const h = durations(second)!.dataPoints[0]! as { count: string | number; sum?: number; bucketCounts?: (string | number)[] };
      expect(Number(h.count)).to.equal(1);
      expect(h.sum).to.equal(300);
      expect((h.bucketCounts ?? []).map(Number).reduce((a, b) => a + b, 0), 'bucket counts are deltas too').to.equal(1);
      const third = await p.push();
      expect(runs(third), 'no runs since the last export').to.equal(undefined);
      // A gauge has no temporality: still exported as it stands.
      expect(third.has('tuist_application_info')).to.equal(true);
    } finally {
      await p.close();
    }
  });

  it('lowmemory: synchronous counters and histograms delta, counters observed at collection (runtime) cumulative', async () => {
    const p = await pushing('lowmemory', true);
    try {
      run(p.t, 100);
      const m = await p.push();
      expect(runs(m)!.aggregationTemporality).to.equal(DELTA);
      expect(durations(m)!.aggregationTemporality).to.equal(DELTA);
      expect(m.get('process_cpu_seconds_total')!.sum!.aggregationTemporality).to.equal(CUMULATIVE);
    } finally {
      await p.close();
    }
  });

  it("the option (not only the variable) applies to the MeterProvider's own instruments as well", async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      exportIntervalMs: 600_000,
      temporalityPreference: 'delta',
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url },
    });
    try {
      t.meterProvider.getMeter('app').createCounter('app.orders').add(2);
      run(t, 10);
      const next = rx.next();
      await t.forceFlush();
      const m = jsonMetrics((await next).body);
      expect(m.get('app.orders')!.sum!.aggregationTemporality).to.equal(DELTA);
      expect(runs(m)!.aggregationTemporality).to.equal(DELTA);
    } finally {
      await t.shutdown();
      await rx.close();
    }
  });

  it('an unknown preference fails start-up listing the valid values', () => {
    expect(() => startTelemetry({ env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' } })).to.throw(
      TelemetryConfigError,
      /OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.*cumulative, delta, lowmemory/,
    );
  });
});
