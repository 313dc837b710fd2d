// The catalog's metric families and their series: label resolution, bounds and recording (store.ts holds them).
import { type MetricDefinition, type NamingProfile, exposedName } from '../catalog/types.js';
import { describe, describeError, type RateLimitedLogger } from '../diag/index.js';
import { searchBounds } from './search-bounds.js';
import { keepExemplar, tracingPossible, type Exemplar } from './exemplars.js';
import { NativeBuckets, schemaForFactor, type NativeHistogramSettings } from './native-histogram.js';
import {
  DEFAULT_MAX_SERIES_PER_METRIC,
  LabelBound,
  SERIES_OVERFLOW_LABEL,
  effectiveLabels,
  isBounded,
} from '../labels/policy.js';
import { compileLookup, noLookup, type Lookup, type Node } from './lookup.js';

import {
  type LabelValue,
  MAX_LABEL_VALUE_LENGTH,
  OVERFLOW_VALUE,
  isStoredAsIs,
  normaliseLabelValue,
  normaliseReported,
} from '../labels/values.js';

export { type LabelValue, MAX_LABEL_VALUE_LENGTH, OVERFLOW_VALUE };
export type Labels = Readonly<Record<string, LabelValue>>;

export interface StoreOptions {
  naming: NamingProfile;
  /** High-cardinality labels that are turned on; every other catalog high-cardinality label is dropped. */
  enabledHighCardinality: ReadonlySet<string>;
  /** All labels the catalog calls high-cardinality. */
  highCardinality: ReadonlySet<string>;
  /** Distinct values kept per label per family before `__overflow__` (every label; labels/policy.ts). */
  maxLabelValues: number;
  /** Series kept per family before new label sets go to the all-`__overflow__` series; default 2000 (labels/policy.ts). */
  maxSeriesPerMetric?: number;
  /** Native histogram buckets beside the classic ones on every catalog histogram (native-histogram.ts); off when unset. */
  nativeHistograms?: NativeHistogramSettings;
  warn: RateLimitedLogger;
}

export class Series {
  readonly start = Date.now();
  constructor(readonly labelValues: readonly string[]) {}
}
export class ValueSeries extends Series {
  value = 0;
}
export class HistogramSeries extends Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Per bucket, the latest value recorded inside a sampled span (allocated on the first one; see exemplars.ts). */
  exemplars: (Exemplar | undefined)[] | undefined = undefined;
  /** Native histogram buckets, when they are on. */
  native: NativeBuckets | undefined = undefined;
  constructor(labelValues: readonly string[], buckets: number) {
    super(labelValues);
    this.counts = new Float64Array(buckets + 1);
  }
}

/**
 * One metric of the catalog and its series. Recording resolves the label set through a trie of Maps keyed by
 * the label values (one Map lookup per label, no attribute hashing, no string building) and adds in place.
 */
export abstract class MetricFamily<S extends Series = Series> {
  readonly name: string;
  /** Effective label names: documented labels (minus disabled high-cardinality ones), then optional labels. */
  readonly labelNames: readonly string[];
  readonly series = new Set<S>();
  private readonly optionalFrom: number;
  /** The bound on each label's distinct values (labels/policy.ts); none for the overflow counter itself. */
  private readonly bounded: (LabelBound | undefined)[];
  /** The bound on this family's series (labels/policy.ts); Infinity for the overflow counter itself. */
  private readonly maxSeries: number;
  /** Counts a recording whose value of a label became `__overflow__` (set by the store). */
  overflowSink: ((family: string, label: string) => void) | undefined;
  private readonly single: S | undefined;
  private allOverflow: S | undefined; // the all-`__overflow__` series, once overflowSeries() found or made it
  private readonly root: Node<S> = new Map();
  private readonly lookup: Lookup<S>;
  /** Counts the times series were forgotten (`remove`, `clear`): a series kept from `existing` is stale once it moved. */
  generation = 0;

  constructor(
    readonly def: MetricDefinition,
    protected readonly opts: StoreOptions,
  ) {
    this.name = exposedName(def, opts.naming);
    const effective = effectiveLabels(def, opts.highCardinality, opts.enabledHighCardinality);
    this.optionalFrom = effective.optionalFrom;
    this.labelNames = effective.names;
    const bounded = isBounded(def);
    this.bounded = this.labelNames.map(() => (bounded ? new LabelBound(opts.maxLabelValues) : undefined));
    this.maxSeries = bounded ? (opts.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC) : Infinity;
    if (this.labelNames.length === 0) {
      this.single = this.create([]);
      this.series.add(this.single);
      this.lookup = noLookup;
    } else {
      this.lookup = compileLookup(this.root, this.labelNames, this.optionalFrom);
    }
  }

  protected abstract create(values: readonly string[]): S;

  /** The series for a label set; creates it on first use. Never throws for any label input. */
  resolve(labels: Labels | undefined): S {
    // Kept small so that V8 inlines it into the recorders; the general path is a separate method.
    const single = this.single;
    if (single !== undefined) return single;
    const hit = this.lookup(labels);
    return hit !== undefined ? hit : this.resolveSlow(labels);
  }

  /**
   * The existing series of `labels` when they are taken exactly as given (string values within the limits, no
   * normalisation, no overflow), for a caller that records one label set many times (series-refs.ts); `undefined`
   * otherwise, and then only `add`/`record` with the labels records them right. Valid while `generation` is unchanged.
   */
  existing(labels: Labels | undefined): S | undefined {
    const single = this.single;
    if (single !== undefined) return single;
    try {
      return this.lookup(labels);
    } catch {
      return undefined;
    }
  }

  /**
   * Every label in turn: normalises values and bounds each label; then, for a label set not seen before, creates its
   * series, or records it in the overflow series when the metric holds `maxSeriesPerMetric` series already. Each
   * label is read once (a getter may answer differently on a second read) and the series keeps exactly the values of
   * its trie path, so two paths can never carry the same label values.
   */
  private resolveSlow(labels: Labels | undefined): S {
    const names = this.labelNames;
    const values: string[] = [];
    let overflowed: string[] | undefined;
    let node: Node<S> | S | undefined = this.root;
    for (let i = 0; i < names.length; i++) {
      const raw = labels === undefined || labels === null ? undefined : labels[names[i]!];
      let v = isStoredAsIs(raw) ? raw : this.normalise(raw, i);
      let next: Node<S> | S | undefined = (node as Node<S> | undefined)?.get(v);
      if (next === undefined) {
        const bound = this.bounded[i];
        if (bound !== undefined && bound.peek(v) !== v) {
          (overflowed ??= []).push(names[i]!);
          v = OVERFLOW_VALUE;
          next = (node as Node<S> | undefined)?.get(v);
        }
      }
      values.push(v);
      node = next;
    }
    if (node === undefined) {
      // A new label set: the series bound (checked only here, never on the path of an existing series).
      if (this.series.size >= this.maxSeries) return this.overflowSeries();
      for (let i = 0; i < names.length; i++) this.bounded[i]?.admit(values[i]!);
      node = this.insert(values);
    }
    if (overflowed !== undefined) for (const l of overflowed) this.overflowed(l);
    return node as S;
  }

  /** Creates the series of `values` along its trie path. */
  private insert(values: readonly string[]): S {
    const last = values.length - 1;
    let node = this.root;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Node<S> | undefined;
      if (next === undefined) node.set(values[i]!, (next = new Map()));
      node = next;
    }
    const s = this.create(values);
    node.set(values[last]!, s);
    this.series.add(s);
    return s;
  }

  /**
   * The series whose labels are all `__overflow__`, where a new label set goes once the metric holds `maxSeries`
   * series (it may be one more than that); warned once per metric, counted with `label="__series__"`. It lives in the
   * trie like any series, so a label set that the label bounds turn into all `__overflow__` is this same series.
   */
  private overflowSeries(): S {
    this.overflowSink?.(this.name, SERIES_OVERFLOW_LABEL);
    // Found once and kept (found again only after a remove or clear): a record past the bound allocates nothing.
    if (this.allOverflow !== undefined && this.series.has(this.allOverflow)) return this.allOverflow;
    const all = this.labelNames.map(() => OVERFLOW_VALUE);
    const note = `recordings of further label sets go to the series whose labels are all "${OVERFLOW_VALUE}"`;
    const what = `${this.name}: reached ${this.maxSeries} series (TUIST_TELEMETRY_MAX_SERIES_PER_METRIC)`;
    this.opts.warn.warn(`overflow:${this.name}:${SERIES_OVERFLOW_LABEL}`, `${what}; ${note}`);
    let node: Node<S> | S | undefined = this.root;
    for (const v of all) node = (node as Node<S> | undefined)?.get(v);
    return (this.allOverflow = node !== undefined ? (node as S) : this.insert(all));
  }

  /** The stored value of label j as `resolve` would choose it for an existing series (overflow included). */
  private valueAt(labels: Labels | undefined, j: number): string {
    const raw = labels === undefined || labels === null ? undefined : labels[this.labelNames[j]!];
    const v = isStoredAsIs(raw) ? raw : normaliseLabelValue(raw, j >= this.optionalFrom);
    const bound = this.bounded[j];
    return bound !== undefined ? bound.peek(v) : v;
  }

  private normalise(raw: unknown, i: number): string {
    return normaliseReported(raw, i >= this.optionalFrom, this.name, this.labelNames[i]!, this.opts.warn);
  }

  /** A value past the label's bound: warned once per metric and label, counted in the overflow self-metric. */
  private overflowed(label: string): void {
    this.opts.warn.warn(
      `overflow:${this.name}:${label}`,
      `${this.name}: label "${label}" reached ${this.opts.maxLabelValues} distinct values ` +
        `(TUIST_TELEMETRY_MAX_LABEL_VALUES); further values are recorded as "${OVERFLOW_VALUE}"`,
    );
    this.overflowSink?.(this.name, label);
  }

  /** A recording that threw (a label object whose getter or Proxy trap throws): dropped with a warning. */
  protected recordFailed(err: unknown): void {
    this.opts.warn.warn(
      `record-failed:${this.name}`,
      `${this.name}: a recording was dropped, reading its labels threw (${describeError(err)})`,
    );
  }

  /** Forgets one series (gauges whose object went away, e.g. a closed pool). */
  remove(labels: Labels | undefined): void {
    if (this.single !== undefined) return;
    const keys: string[] = [];
    try {
      for (let j = 0; j < this.labelNames.length; j++) keys.push(this.valueAt(labels, j));
    } catch (err) {
      return this.recordFailed(err);
    }
    const path: Node<S>[] = [];
    let node: Node<S> | S = this.root;
    for (const v of keys) {
      path.push(node as Node<S>);
      const next: Node<S> | S | undefined = (node as Node<S>).get(v);
      if (next === undefined) return;
      node = next;
    }
    this.series.delete(node as S);
    this.generation++;
    for (let j = path.length - 1; j >= 0; j--) {
      path[j]!.delete(keys[j]!);
      if (path[j]!.size > 0) break;
    }
  }

  /** Forgets every labelled series; an unlabelled one stays, at its value, unless `all` (a metric the runtime lacks). */
  clear(all = false): void {
    if (this.single !== undefined && all) this.series.delete(this.single);
    if (this.single !== undefined) return;
    this.generation++;
    this.root.clear();
    this.series.clear();
    for (const b of this.bounded) b?.clear();
  }
}

export class CounterFamily extends MetricFamily<ValueSeries> {
  protected create(values: readonly string[]): ValueSeries {
    return new ValueSeries(values);
  }
  /** Adds a non-negative finite value; anything else is dropped with a warning. */
  add(value: number, labels?: Labels): void {
    if (!this.takes(value)) return;
    try {
      this.resolve(labels).value += value;
    } catch (err) {
      this.recordFailed(err);
    }
  }

  /** `add` to a series `existing` returned (still current): no label lookup. */
  addTo(series: ValueSeries, value: number): void {
    if (this.takes(value)) series.value += value;
  }

  private takes(value: number): boolean {
    // typeof first: `'5' >= 0` and `[5] >= 0` hold, and `+=` would then turn the series into a string.
    if (typeof value === 'number' && value >= 0 && value !== Infinity) return true;
    this.opts.warn.warn(
      `bad-value:${this.name}`,
      `${this.name}: dropped an increment of ${describe(value)} (counters take finite numbers >= 0)`,
    );
    return false;
  }
}

export class GaugeFamily extends MetricFamily<ValueSeries> {
  protected create(values: readonly string[]): ValueSeries {
    return new ValueSeries(values);
  }
  /** Sets the last value; NaN and infinities are dropped with a warning. */
  set(value: number, labels?: Labels): void {
    if (!Number.isFinite(value)) {
      this.opts.warn.warn(
        `bad-value:${this.name}`,
        `${this.name}: dropped a value of ${describe(value)} (gauges take finite numbers)`,
      );
      return;
    }
    try {
      this.resolve(labels).value = value;
    } catch (err) {
      this.recordFailed(err);
    }
  }
}

export class HistogramFamily extends MetricFamily<HistogramSeries> {
  readonly buckets: readonly number[];
  /** The bounds searched on every record (search-bounds.ts), shared with the families of the same bucket list. */
  private readonly bounds: Float64Array;
  /** Half the padded length: the first step of the search. */
  private readonly half: number;
  constructor(def: MetricDefinition, opts: StoreOptions) {
    super(def, opts);
    this.buckets = Object.freeze([...(def.buckets ?? [])]);
    this.bounds = searchBounds(this.buckets);
    this.half = this.bounds.length >> 1;
  }
  protected create(values: readonly string[]): HistogramSeries {
    const s = new HistogramSeries(values, this.def.buckets?.length ?? 0);
    const native = this.opts.nativeHistograms;
    if (native !== undefined) s.native = new NativeBuckets(native, schemaForFactor(native.bucketFactor));
    return s;
  }
  /** Records a finite value >= 0 (durations and sizes); anything else is dropped with a warning. */
  record(value: number, labels?: Labels): void {
    if (!this.takes(value)) return;
    try {
      this.observe(this.resolve(labels), value);
    } catch (err) {
      this.recordFailed(err);
    }
  }

  /** `record` into a series `existing` returned (still current): no label lookup. */
  recordTo(series: HistogramSeries, value: number): void {
    if (!this.takes(value)) return;
    try {
      this.observe(series, value);
    } catch (err) {
      this.recordFailed(err);
    }
  }

  private takes(value: number): boolean {
    // typeof first: a Symbol would throw in `>=`, and `'5' >= 0` holds.
    if (typeof value === 'number' && value >= 0 && value !== Infinity) return true;
    this.opts.warn.warn(
      `bad-value:${this.name}`,
      `${this.name}: dropped a value of ${describe(value)} (histograms here take finite numbers >= 0)`,
    );
    return false;
  }

  private observe(s: HistogramSeries, value: number): void {
    // i = the number of bounds below value, i.e. the first bound >= value (upper bounds are inclusive; past the
    // last bound is +Inf). A fixed number of halving steps written as selects: random values do not make it
    // mispredict (a binary search with branches measured 20-40 ns slower, a linear scan 5-10 ns).
    const b = this.bounds;
    let i = 0;
    for (let half = this.half; half > 0; half >>= 1) i = b[i + half - 1]! < value ? i + half : i;
    // Not `s.counts[i]!++`: StrykerJS (npm run mutate) cannot instrument `++` on a non-null assertion.
    s.counts[i] = s.counts[i]! + 1;
    s.sum += value;
    s.count++;
    const native = s.native;
    if (native !== undefined) native.observe(value);
    if (tracingPossible()) keepExemplar(s, i, value);
  }
}

export type AnyFamily = CounterFamily | GaugeFamily | HistogramFamily;
