import { clusterAggregationOf, type ClusterAggregation, type MetricDefinition } from '../catalog/types.js';
import {
  GaugeFamily,
  HistogramFamily,
  MetricStore,
  type AnyFamily,
  type HistogramSeries,
  type Series,
  type StoreOptions,
  type ValueSeries,
} from '../store/store.js';
import type { SeriesDef, WorkerSnapshots } from './protocol.js';
import { DEFAULT_MAX_SERIES_PER_METRIC } from '../labels/policy.js';

/** The `worker` label value of the primary's own per-process series. */
export const PRIMARY_WORKER = 'primary';
const WORKER_LABEL = 'worker';

export interface LiveWorker {
  /** The `worker` label value (the cluster worker id). */
  readonly id: string;
  readonly snapshots: WorkerSnapshots;
}

/**
 * The cluster-wide view the primary serves: a MetricStore of the catalog (per-worker families get a `worker` label)
 * filled on every scrape from the primary's own store, each live worker's last snapshot and what exited workers left
 * behind, following each family's `clusterAggregation`. The unchanged serializer then writes it like any store.
 * Counter and histogram series of the view are never removed (their label text stays cached); gauges are rebuilt
 * on every scrape, so those of an exited worker disappear.
 */
export class ClusterView {
  readonly merged: MetricStore;
  private readonly byName = new Map<string, AnyFamily>();
  private readonly rules = new Map<AnyFamily, ClusterAggregation>();
  /** Own counter/histogram series -> the view's series. */
  private readonly ownTarget = new WeakMap<Series, Series>();
  /** A worker's counter/histogram series -> the view's series. */
  private readonly defTarget = new WeakMap<SeriesDef, Series>();
  /** What exited workers had counted, by the view's counter/histogram series (same layout as snapshot values). */
  private readonly retired = new Map<Series, Float64Array>();
  /** `once` gauge series given a value in the current build. */
  private readonly touched = new Set<Series>();

  constructor(definitions: readonly MetricDefinition[], opts: StoreOptions) {
    const defs = definitions.map((d) =>
      clusterAggregationOf(d) === 'perWorker' ? { ...d, labels: [...d.labels, WORKER_LABEL] } : d,
    );
    // Each process bounds its own labels; the view only has to hold their union (plus what exited workers left).
    const maxSeriesPerMetric = (opts.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC) * 16;
    this.merged = new MetricStore(defs, {
      ...opts,
      nativeHistograms: undefined,
      maxLabelValues: opts.maxLabelValues * 16,
      maxSeriesPerMetric,
    });
    for (const f of this.merged.families) {
      this.byName.set(f.def.name, f);
      this.rules.set(f, clusterAggregationOf(f.def));
    }
  }

  /** The view's family for a documented name (how worker snapshots name their families). */
  readonly familyOf = (name: string): AnyFamily | undefined => this.byName.get(name);

  get hasRetired(): boolean {
    return this.retired.size > 0;
  }

  /** Fills the view from the primary's store, the live workers' last snapshots and the retired counts. */
  build(own: MetricStore, workers: Iterable<LiveWorker>): MetricStore {
    this.touched.clear();
    for (const f of this.merged.families) {
      if (f instanceof GaugeFamily) {
        if (f.labelNames.length > 0) f.clear();
        else for (const s of f.series) s.value = 0;
      } else if (f instanceof HistogramFamily) {
        for (const s of f.series) {
          s.counts.fill(0);
          s.sum = 0;
          s.count = 0;
        }
      } else {
        for (const s of f.series) s.value = 0;
      }
    }
    for (const [s, values] of this.retired) add(s, values, 0);

    for (const f of own.families) {
      const mf = this.byName.get(f.def.name);
      if (mf === undefined) continue;
      for (const s of f.series) {
        if (mf instanceof GaugeFamily) {
          const labels = labelsOf(f.labelNames, s.labelValues);
          this.setGauge(mf, labels, PRIMARY_WORKER, (s as ValueSeries).value);
        } else {
          let target = this.ownTarget.get(s);
          if (target === undefined) {
            target = mf.resolve(labelsOf(f.labelNames, s.labelValues));
            this.ownTarget.set(s, target);
          }
          if (mf instanceof HistogramFamily) addHistogram(target as HistogramSeries, s as HistogramSeries);
          else (target as ValueSeries).value += (s as ValueSeries).value;
        }
      }
    }

    for (const w of workers) {
      const data = w.snapshots.last;
      if (data === undefined) continue;
      for (let p = 0; p < data.length; ) {
        const def = w.snapshots.defs.get(data[p]!)!;
        const mf = def.family;
        if (mf instanceof GaugeFamily) this.setGauge(mf, def.labels, w.id, data[p + 1]!);
        else if (mf !== undefined) add(this.targetOf(mf, def), data, p + 1);
        p += 1 + def.width;
      }
    }
    return this.merged;
  }

  /** Keeps an exited worker's (or a worker's ended telemetry's) last counter and histogram values in every later build. */
  retire(snapshots: WorkerSnapshots): void {
    const data = snapshots.last;
    if (data === undefined) return;
    for (let p = 0; p < data.length; ) {
      const def = snapshots.defs.get(data[p]!)!;
      this.retireSeries(def, data, p);
      p += 1 + def.width;
    }
  }

  /** Keeps one series' last counter or histogram values (at `p` in `data`, as in a snapshot) in every later build. */
  readonly retireSeries = (def: SeriesDef, data: Float64Array, p: number): void => {
    const mf = def.family;
    if (mf === undefined || mf instanceof GaugeFamily) return;
    const target = this.targetOf(mf, def);
    let acc = this.retired.get(target);
    if (acc === undefined) this.retired.set(target, (acc = new Float64Array(def.width)));
    for (let k = 0; k < def.width; k++) acc[k] += data[p + 1 + k]!;
  };

  private targetOf(mf: AnyFamily, def: SeriesDef): Series {
    let target = this.defTarget.get(def);
    if (target === undefined) {
      target = mf.resolve(def.labels);
      this.defTarget.set(def, target);
    }
    return target;
  }

  private setGauge(mf: GaugeFamily, labels: Record<string, string>, worker: string, value: number): void {
    const rule = this.rules.get(mf);
    if (rule === 'perWorker') {
      mf.resolve({ ...labels, [WORKER_LABEL]: worker }).value = value;
      return;
    }
    const target = mf.resolve(labels);
    if (rule === 'once') {
      if (!this.touched.has(target)) {
        this.touched.add(target);
        target.value = value;
      } else if (value > target.value) target.value = value;
    } else target.value += value;
  }
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}

function addHistogram(target: HistogramSeries, s: HistogramSeries): void {
  const n = Math.min(target.counts.length, s.counts.length);
  for (let i = 0; i < n; i++) target.counts[i] += s.counts[i]!;
  target.sum += s.sum;
  target.count += s.count;
}

/** Adds snapshot-layout values (`value`, or `counts..., sum, count`) starting at `p` to a view series. */
function add(target: Series, values: Float64Array, p: number): void {
  if ('counts' in target) {
    const h = target as HistogramSeries;
    const n = h.counts.length;
    for (let i = 0; i < n; i++) h.counts[i] += values[p + i]!;
    h.sum += values[p + n]!;
    h.count += values[p + n + 1]!;
  } else (target as ValueSeries).value += values[p]!;
}
