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

/**
 * Whole counts of one counter label set on a per-request path, where the counter rises by 1 beside a histogram of
 * the same request (`tuist_http_request_count` beside `tuist_http_request_duration_nanosecond`): `inc()` adds to a
 * plain number on an object the path touches anyway, and the counts reach the family when the store collects (every
 * scrape, push export and cluster snapshot runs `runCollectCallbacks` first, which flushes them). A field increment
 * instead of a recording: on the undici bench the nine recordings of a request were about 1.5% of its client CPU,
 * and these counts are four of them. Until a collection the family does not show them: only collections read it.
 */
export class PendingCount {
  /** Counts not yet added to the family. */
  pending = 0;
  /** Whether `counts` lists it (a collection that finds nothing pending drops it; the next `inc` lists it again). */
  listed = false;

  constructor(
    private readonly counts: PendingCounts,
    readonly ref: CounterRef,
  ) {}

  inc(): void {
    this.pending++;
    if (!this.listed) this.counts.list(this);
  }
}

/** The PendingCounts of one store with counts to flush (bounded by the label sets that rose since a collection). */
export class PendingCounts {
  private readonly listed = new Set<PendingCount>();

  /** A PendingCount of `labels` (frozen, as for CounterRef) in `family`. */
  of(family: CounterFamily, labels: Labels | undefined): PendingCount {
    return new PendingCount(this, new CounterRef(family, labels));
  }

  list(count: PendingCount): void {
    count.listed = true;
    this.listed.add(count);
  }

  /** Adds every pending count to its family (the store runs it before its collect callbacks). */
  flush(): void {
    for (const c of this.listed) {
      const n = c.pending;
      if (n === 0) {
        c.listed = false;
        this.listed.delete(c);
        continue;
      }
      c.pending = 0;
      c.ref.add(n);
    }
  }
}
