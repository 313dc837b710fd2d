import { expect } from 'chai';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { jsonMetrics, otlpReceiver, type JsonMetric } from '../helpers/index.js';

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

const run = (t: Telemetry, durationMs: number) =>
  t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs });
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
      const h = durations(second)!.dataPoints[0]! as {
        count: string | number;
        sum?: number;
        bucketCounts?: (string | number)[];
      };
      expect(Number(h.count)).to.equal(1);
      expect(h.sum).to.equal(300);
      expect(
        (h.bucketCounts ?? []).map(Number).reduce((a, b) => a + b, 0),
        'bucket counts are deltas too',
      ).to.equal(1);
      const third = await p.push();
      expect(runs(third), 'no runs since the last export').to.equal(undefined);
      // A gauge has no temporality: still exported as it stands.
      expect(third.has('tuist_application_info')).to.equal(true);
    } finally {
      await p.close();
    }
  });

  it('delta: a series at zero is in the first export (so the backend knows it) and left out later until it moves', async () => {
    const p = await pushing('delta');
    try {
      // Unlabelled counters exist at 0 from start-up; a labelled series at 0 once something added 0 to it.
      p.t.store.counter('tuist_runs_total').add(0, { name: 'idle', is_ci: 'false', status: '0' });
      const first = await p.push();
      const uploads = first.get('tuist_cache_uploads_total')!.sum!;
      expect(uploads.aggregationTemporality).to.equal(DELTA);
      expect(uploads.dataPoints).to.have.length(1);
      expect(uploads.dataPoints[0]!.asDouble ?? 0).to.equal(0);
      expect(runs(first)!.dataPoints.map((d) => d.asDouble ?? 0)).to.deep.equal([0]);
      const second = await p.push();
      expect(second.has('tuist_cache_uploads_total'), 'still zero: no point').to.equal(false);
      expect(runs(second)).to.equal(undefined);
      p.t.metrics.recordCacheUpload(10);
      const third = await p.push();
      expect(third.get('tuist_cache_uploads_total')!.sum!.dataPoints[0]!.asDouble).to.equal(1);
    } finally {
      await p.close();
    }
  });

  it('delta: each point starts where the previous export of its series ended; cumulative points keep the series start', async () => {
    type Timed = { startTimeUnixNano: string | number; timeUnixNano: string | number };
    const times = (m: Map<string, JsonMetric>, name: string): { start: bigint; end: bigint } => {
      const metric = m.get(name)!;
      const point = (metric.sum ?? metric.histogram)!.dataPoints[0] as unknown as Timed;
      return { start: BigInt(String(point.startTimeUnixNano)), end: BigInt(String(point.timeUnixNano)) };
    };
    for (const preference of ['delta', 'cumulative'] as const) {
      const p = await pushing(preference);
      try {
        // Waits keep the series start, the first export and the second in distinct milliseconds (the store's clock).
        const pause = () => new Promise((r) => setTimeout(r, 20));
        run(p.t, 100);
        await pause();
        const first = await p.push();
        await pause();
        run(p.t, 200);
        const second = await p.push();
        for (const name of ['tuist_runs_total', 'tuist_runs_duration_milliseconds']) {
          const a = times(first, name);
          const b = times(second, name);
          expect(a.start < a.end, `${preference} ${name}: the first point starts at the series start`).to.equal(true);
          expect(b.end > a.end, `${preference} ${name}`).to.equal(true);
          if (preference === 'delta')
            expect(b.start, `${preference} ${name}: starts at the previous end`).to.equal(a.end);
          else expect(b.start, `${preference} ${name}: the series start`).to.equal(a.start);
        }
      } finally {
        await p.close();
      }
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
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      },
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
