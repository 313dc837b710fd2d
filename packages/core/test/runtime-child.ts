/**
 * Child process of runtime.test.ts, started with `node --expose-gc --import tsx --conditions=source`: runs our
 * runtime metrics and prom-client's default metrics side by side in one process, forces garbage collections and
 * prints one JSON line with what it saw. Never imported by the tests themselves.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startTelemetry } from '@tuist-telemetry/core';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('runtime-child.ts needs node --expose-gc');

const t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, env: {}, setGlobalMeterProvider: false });
await t.ready();
const registry = new Registry();
collectDefaultMetrics({ register: registry });

const scrape = async (): Promise<string> => (await fetch(t.url!)).text();
const gcCount = (): number => {
  let n = 0;
  for (const s of t.store.histogram('nodejs_gc_duration_seconds').series) n += s.count;
  return n;
};

const before = await scrape();
const countBefore = gcCount();
for (let i = 0; i < 3; i++) gc();
// gc entries reach PerformanceObservers asynchronously: wait until ours has them (bounded).
for (let i = 0; i < 200 && gcCount() < countBefore + 3; i++) await new Promise((r) => setTimeout(r, 10));
const after = await scrape();
const promClient = await registry.metrics();
const promLabelNames: Record<string, string[]> = {};
for (const m of registry.getMetricsAsArray()) {
  promLabelNames[m.name] = [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])];
}

// After stopping, neither the GC observer nor the collection callbacks may touch the store.
await t.shutdown();
const countAtStop = gcCount();
gc();
gc();
await new Promise((r) => setTimeout(r, 100));
const countAfterStop = gcCount();
const lagGauge = t.store.gauge('nodejs_eventloop_lag_max_seconds');
const lagAtStop = [...lagGauge.series][0]!.value;
const cpu = t.store.counter('process_cpu_seconds_total');
const cpuAtStop = [...cpu.series][0]!.value;
const spin = Date.now() + 50;
while (Date.now() < spin) {
  /* burn CPU and delay the loop */
}
t.store.runCollectCallbacks();
const lagAfterStop = [...lagGauge.series][0]!.value;
const cpuAfterStop = [...cpu.series][0]!.value;

process.stdout.write(
  JSON.stringify({
    before,
    after,
    promClient,
    promLabelNames,
    countAtStop,
    countAfterStop,
    lagAtStop,
    lagAfterStop,
    cpuAtStop,
    cpuAfterStop,
  }) + '\n',
);
