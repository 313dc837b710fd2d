// A worker of case 7 (cluster.ts): `<impl> <series>`; records `series` histogram series (the same label sets in every
// worker, three values each), then tells the primary it is ready and answers its scrapes until killed.
import { AggregatorRegistry, Histogram, register } from 'prom-client';
import { startTelemetry } from '@tuist-telemetry/core';
import { B1, findMetric } from '@tuist-telemetry/core/internal';
import { objectKey, SERIES_METRIC } from './fixtures.js';

const [impl, seriesArg] = process.argv.slice(2);
const series = Number(seriesArg);
const values = (i: number): number[] => [(i * 37) % 2_000_000, (i * 7919) % 50_000, 150];

if (impl === 'ours') {
  const t = startTelemetry({
    prometheus: { port: 0, host: '127.0.0.1' },
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
    highCardinalityLabels: ['object_key'],
    maxLabelValues: Math.max(series, 1),
    maxSeriesPerMetric: Math.max(series, 1),
    env: {},
  });
  const h = t.store.histogram(SERIES_METRIC);
  for (let i = 0; i < series; i++) for (const v of values(i)) h.record(v, { object_key: objectKey(i) });
} else {
  // Constructing one installs prom-client's worker-side listener (it answers with the global registry as JSON).
  new AggregatorRegistry();
  const h = new Histogram({
    name: SERIES_METRIC,
    help: findMetric(SERIES_METRIC)!.description,
    labelNames: ['object_key'],
    buckets: [...B1],
    registers: [register],
  });
  for (let i = 0; i < series; i++) for (const v of values(i)) h.observe({ object_key: objectKey(i) }, v);
}
process.send!({ ready: true });
