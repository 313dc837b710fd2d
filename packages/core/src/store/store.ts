import type { MetricDefinition } from '../catalog/types.js';
import { LABEL_OVERFLOW_METRIC } from '../labels/policy.js';
import { type AnyFamily, CounterFamily, GaugeFamily, HistogramFamily, type StoreOptions } from './families.js';
import { PendingCounts } from './series-refs.js';

export * from './families.js';

/**
 * Core's own aggregation store for every catalog metric. The Prometheus endpoint serialises straight from it and
 * the OpenTelemetry pipeline reads it through a MetricProducer, so OTLP and console exporters carry it too.
 */
export class MetricStore {
  readonly families: readonly AnyFamily[];
  private readonly byName = new Map<string, AnyFamily>();
  private readonly collectCallbacks = new Set<() => void>();
  /** Counts kept off the hot path until a collection (series-refs.ts, PendingCount). */
  readonly pendingCounts = new PendingCounts();

  constructor(
    definitions: readonly MetricDefinition[],
    private readonly opts: StoreOptions,
  ) {
    const fams: AnyFamily[] = [];
    for (const def of definitions) {
      const f =
        def.type === 'counter'
          ? new CounterFamily(def, opts)
          : def.type === 'gauge'
            ? new GaugeFamily(def, opts)
            : new HistogramFamily(def, opts);
      for (const init of def.initialSeries ?? []) f.resolve(init);
      // Unlabelled counters and gauges exist from start-up at 0, so rate() works from the first scrape.
      if (def.type !== 'histogram' && def.labels.length === 0 && def.optionalLabels?.length) f.resolve(undefined);
      fams.push(f);
      this.byName.set(def.name, f);
    }
    this.families = fams;
    const overflow = this.byName.get(LABEL_OVERFLOW_METRIC);
    if (overflow instanceof CounterFamily) {
      for (const f of fams) if (f !== overflow) f.overflowSink = (metric, label) => overflow.add(1, { metric, label });
    }
  }

  private get<T extends AnyFamily>(name: string, ctor: new (...a: never[]) => T): T {
    const f = this.byName.get(name);
    if (!(f instanceof ctor)) {
      throw new Error(
        `@tuist-telemetry/core: "${name}" is not a ${ctor.name.replace('Family', '').toLowerCase()} of the catalog`,
      );
    }
    return f;
  }
  /** A catalog counter by its documented name (throws for an unknown name: a programming error, found at start-up). */
  counter(name: string): CounterFamily {
    return this.get(name, CounterFamily);
  }
  histogram(name: string): HistogramFamily {
    return this.get(name, HistogramFamily);
  }
  gauge(name: string): GaugeFamily {
    return this.get(name, GaugeFamily);
  }

  /** Runs `fn` before every collection (Prometheus scrape or push export): for values read at collection time. */
  onCollect(fn: () => void): () => void {
    this.collectCallbacks.add(fn);
    return () => this.collectCallbacks.delete(fn);
  }

  /**
   * Brings pending counts and values read at collection time up to date. A failing callback is logged and the
   * others still run.
   */
  runCollectCallbacks(): void {
    this.pendingCounts.flush();
    for (const fn of this.collectCallbacks) {
      try {
        fn();
      } catch (err) {
        this.opts.warn.error(
          'collect-callback',
          '@tuist-telemetry/core: a collection callback threw; its values were kept',
          err,
        );
      }
    }
  }
}
