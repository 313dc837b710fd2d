import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { catalogViews, startTelemetry } from '@tuist-telemetry/core';
import { B1, findMetric } from '@tuist-telemetry/core/internal';
import { DURATIONS, RUN_LABELS, RUNS } from './fixtures.js';
import { nsPerOp, type OpsPlan } from './timing.js';
import { isAnchor, loadAnchor, type Anchor } from './anchors.js';

export type RecordingImpl = 'ours' | 'ours-recordRun' | 'ours-span' | 'ours-native' | Anchor | 'stock';

const COUNTER = 'tuist_runs_total';
const HISTOGRAM = 'tuist_runs_duration_milliseconds';

function help(name: string): string {
  return findMetric(name)!.description;
}

/** The stock OpenTelemetry SDK as a user would set it up: sdk-metrics with the catalog's Views, exporter-prometheus. */
export function stockProvider(views = catalogViews()): { provider: MeterProvider; exporter: PrometheusExporter } {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
  });
  const provider = new MeterProvider({ readers: [exporter], views });
  return { provider, exporter };
}

/** Case 1: one counter increment with 3 labels (`recordRun`-shaped); the anchors through `Counter.inc(labels, 1)`. */
export async function counterCase(impl: RecordingImpl, plan: OpsPlan): Promise<Record<string, number>> {
  const labels = RUN_LABELS;
  let batch: (n: number) => void;
  let close = async () => {};
  if (impl === 'ours' || impl === 'ours-recordRun') {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    close = () => t.shutdown();
    if (impl === 'ours') {
      const c = t.store.counter(COUNTER);
      batch = (n) => {
        for (let i = 0; i < n; i++) c.add(1, labels[i & 15]);
      };
    } else {
      const m = t.metrics;
      const runs = RUNS;
      batch = (n) => {
        for (let i = 0; i < n; i++) m.recordRun(runs[i & 15]!);
      };
    }
  } else if (isAnchor(impl)) {
    // prom-client and the two clients that keep its API, each with its own registry.
    const { Counter, Registry } = await loadAnchor(impl);
    const c = new Counter({
      name: COUNTER,
      help: help(COUNTER),
      labelNames: ['name', 'is_ci', 'status'],
      registers: [new Registry()],
    });
    batch = (n) => {
      for (let i = 0; i < n; i++) c.inc(labels[i & 15]!, 1);
    };
  } else {
    const { provider } = stockProvider();
    close = () => provider.shutdown();
    const c = provider.getMeter('bench').createCounter(COUNTER);
    batch = (n) => {
      for (let i = 0; i < n; i++) c.add(1, labels[i & 15]);
    };
  }
  const ns = nsPerOp(batch, plan);
  await close();
  return { ns };
}

/** Case 2: one histogram record with 3 labels and the B1 buckets. */
export async function histogramCase(impl: RecordingImpl, plan: OpsPlan): Promise<Record<string, number>> {
  const labels = RUN_LABELS;
  const values = DURATIONS;
  let batch: (n: number) => void;
  let close = async () => {};
  if (impl === 'ours' || impl === 'ours-span' || impl === 'ours-native') {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      nativeHistograms: impl === 'ours-native',
    });
    close = () => t.shutdown();
    const h = t.store.histogram(HISTOGRAM);
    batch = (n) => {
      for (let i = 0; i < n; i++) h.record(values[i & 1023]!, labels[i & 15]);
    };
    if (impl === 'ours-span') {
      // Every record inside an active sampled span (what a traced request looks like): the exemplar path. The
      // context manager is the one NodeSDK registers; the span context is what a sampled SDK span carries.
      const cm = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(cm);
      const span = trace.wrapSpanContext({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      });
      const ns = context.with(trace.setSpan(ROOT_CONTEXT, span), () => nsPerOp(batch, plan));
      context.disable();
      await close();
      return { ns };
    }
  } else if (isAnchor(impl)) {
    const { Histogram, Registry } = await loadAnchor(impl);
    const h = new Histogram({
      name: HISTOGRAM,
      help: help(HISTOGRAM),
      labelNames: ['name', 'is_ci', 'status'],
      buckets: [...B1],
      registers: [new Registry()],
    });
    batch = (n) => {
      for (let i = 0; i < n; i++) h.observe(labels[i & 15]!, values[i & 1023]!);
    };
  } else if (impl === 'stock') {
    const { provider } = stockProvider();
    close = () => provider.shutdown();
    const h = provider.getMeter('bench').createHistogram(HISTOGRAM, { unit: 'ms' });
    batch = (n) => {
      for (let i = 0; i < n; i++) h.record(values[i & 1023]!, labels[i & 15]);
    };
  } else {
    throw new Error(`histogram case has no implementation ${impl}`);
  }
  const ns = nsPerOp(batch, plan);
  await close();
  return { ns };
}
