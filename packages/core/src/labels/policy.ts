import { LABEL_OVERFLOW_METRIC } from '../catalog/labels.js';
import type { MetricDefinition } from '../catalog/types.js';
import { OVERFLOW_VALUE } from './values.js';

/**
 * The label policy of catalog metrics, one for core's store and for `catalogViews()` (the stock SDK):
 * - which labels a metric carries: its documented labels, minus the high-cardinality ones that are off (they are
 *   dropped), then its optional labels (`effectiveLabels`);
 * - a bound on every one of them: at most `maxLabelValues` distinct values per label per metric
 *   (`TUIST_TELEMETRY_MAX_LABEL_VALUES`, default 1000); later values are recorded as `__overflow__`, so nothing is
 *   lost from the totals and memory stays bounded however many routes, hosts, versions or names arrive (`LabelBound`);
 * - a bound on the series of each metric, since label values multiply (1,000 queues x 300 workers): at most
 *   `maxSeriesPerMetric` (`TUIST_TELEMETRY_MAX_SERIES_PER_METRIC`, default 2000); a later new label set is recorded in
 *   the one series whose labels are all `__overflow__`, counted with `label="__series__"` (store.ts).
 * Value normalisation (length, well-formed UTF-16) is in values.ts; third-party attribute names in attributes.ts.
 */

/** The default of `TUIST_TELEMETRY_MAX_LABEL_VALUES`. */
export const DEFAULT_MAX_LABEL_VALUES = 1000;
/** The default of `TUIST_TELEMETRY_MAX_SERIES_PER_METRIC` (OpenTelemetry's default cardinality limit). */
export const DEFAULT_MAX_SERIES_PER_METRIC = 2000;
/** The `label` the overflow self-metric reports for a label set recorded in the all-`__overflow__` series. */
export const SERIES_OVERFLOW_LABEL = '__series__';
/** What the overflow self-metric reports for a third-party metric or label name past its bound. */
export const OTHER_NAME = '__other__';
/** Distinct (metric, label) pairs the overflow self-metric reports for instruments outside the catalog. */
export const MAX_REPORTED_THIRD_PARTY_LABELS = 1000;

export { LABEL_OVERFLOW_METRIC };

export interface EffectiveLabels {
  /** Label names in exposition order: kept documented labels, then optional ones. */
  readonly names: readonly string[];
  /** Index of the first optional label (a missing optional label is `''`, i.e. absent). */
  readonly optionalFrom: number;
}

/** The labels a catalog metric is recorded with, given which high-cardinality labels are turned on. */
export function effectiveLabels(
  def: MetricDefinition,
  highCardinality: ReadonlySet<string>,
  enabled: ReadonlySet<string>,
): EffectiveLabels {
  const required = def.labels.filter((l) => !highCardinality.has(l) || enabled.has(l));
  return { names: [...required, ...(def.optionalLabels ?? [])], optionalFrom: required.length };
}

/** Whether a metric's labels are bounded: every catalog metric's, except the overflow counter's own (its values are the catalog's names). */
export function isBounded(def: MetricDefinition): boolean {
  return def.name !== LABEL_OVERFLOW_METRIC;
}

/** The distinct values one label of one metric has taken, up to a cap. */
export class LabelBound {
  private readonly values = new Set<string>();
  constructor(readonly max: number) {}

  /** `value` when it was seen before or there is room for it (it is then remembered); otherwise `__overflow__`. */
  admit(value: string): string {
    if (this.values.has(value)) return value;
    if (this.values.size >= this.max) return OVERFLOW_VALUE;
    this.values.add(value);
    return value;
  }

  /** What `admit` answers for a value, without remembering it. */
  peek(value: string): string {
    return this.values.has(value) || this.values.size < this.max ? value : OVERFLOW_VALUE;
  }

  clear(): void {
    this.values.clear();
  }
}

/**
 * The bound on the overflow self-metric's own labels for instruments outside the catalog, whose instrument names and
 * attribute keys are not known in advance (catalog metrics report their own names, a fixed set, and bypass it). The
 * first `max` distinct (metric, label) pairs are reported as they are; a later pair as (metric, `__other__`) when
 * its metric was reported before, else as (`__other__`, `__other__`): at most 2 * max + 1 series.
 */
export class ReportedNames {
  private readonly labels = new Map<string, Set<string>>();
  private pairs = 0;
  constructor(readonly max: number) {}

  name(metric: string, label: string): [metric: string, label: string] {
    let known = this.labels.get(metric);
    if (known?.has(label)) return [metric, label];
    if (this.pairs < this.max) {
      if (known === undefined) this.labels.set(metric, (known = new Set()));
      known.add(label);
      this.pairs++;
      return [metric, label];
    }
    return [known !== undefined ? metric : OTHER_NAME, OTHER_NAME];
  }
}
