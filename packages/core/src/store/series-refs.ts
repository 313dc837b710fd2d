// Label sets held for repeated recordings: an instrumentation's per-request path records the same few label sets
// again and again, and a ref keeps each one's series so that a recording skips the label lookup.
import type { CounterFamily, HistogramFamily, HistogramSeries, Labels, ValueSeries } from './families.js';

/**
 * One label set of a counter family. `add` records exactly what `family.add(value, labels)` would: through the kept
 * series while it is current (the family forgot no series since), through the family's general path otherwise
 * (the first recording, labels that are normalised or overflow). `labels` must not change afterwards (freeze it).
 */
export class CounterRef {
  private series: ValueSeries | undefined = undefined;
  private generation = -1;

  constructor(
    readonly family: CounterFamily,
    readonly labels: Labels | undefined,
  ) {}

  add(value: number): void {
    const f = this.family;
    let s = this.series;
    if (s === undefined || this.generation !== f.generation) {
      this.generation = f.generation;
      s = this.series = f.existing(this.labels);
      if (s === undefined) return f.add(value, this.labels);
    }
    f.addTo(s, value);
  }
}

/** One label set of a histogram family: `record` as `family.record(value, labels)` (see CounterRef). */
export class HistogramRef {
  private series: HistogramSeries | undefined = undefined;
  private generation = -1;

  constructor(
    readonly family: HistogramFamily,
    readonly labels: Labels | undefined,
  ) {}

  record(value: number): void {
    const f = this.family;
    let s = this.series;
    if (s === undefined || this.generation !== f.generation) {
      this.generation = f.generation;
      s = this.series = f.existing(this.labels);
      if (s === undefined) return f.record(value, this.labels);
    }
    f.recordTo(s, value);
  }
}
