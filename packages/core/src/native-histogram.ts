/**
 * Native (sparse exponential) histogram buckets, kept beside a catalog histogram's classic buckets when
 * `TUIST_TELEMETRY_NATIVE_HISTOGRAMS=true`, in Prometheus' native histogram model: with schema s, bucket index i
 * covers (base^(i-1), base^i] with base = 2^(2^-s); values up to the zero threshold count in the zero bucket.
 * Only non-negative values are recorded here (the store drops the others), so there are no negative buckets.
 */

export interface NativeHistogramSettings {
  /** The largest growth factor from one bucket boundary to the next; the schema is the coarsest one within it. */
  bucketFactor: number;
  /** Populated buckets a series keeps; past it the resolution is halved (schema - 1) until it fits again. */
  maxBuckets: number;
  /** Values at or below it count in the zero bucket. */
  zeroThreshold: number;
}

/** client_golang's defaults: factor 1.1 (schema 3), 160 buckets, zero threshold 2^-128. */
export const NATIVE_DEFAULTS: NativeHistogramSettings = { bucketFactor: 1.1, maxBuckets: 160, zeroThreshold: 2 ** -128 };

export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

/**
 * The schema of a bucket factor: the largest (finest) schema whose base 2^(2^-schema) does not exceed the factor,
 * within -4..8 (a factor of 1.1 gives 3, base 1.0905; a factor of 2 gives 0).
 */
export function schemaForFactor(factor: number): number {
  if (!(factor > 1)) return MAX_SCHEMA;
  const s = Math.ceil(-Math.log2(Math.log2(factor)) - 1e-9);
  return Math.max(MIN_SCHEMA, Math.min(MAX_SCHEMA, s));
}

/**
 * The dense window of bucket counts beyond which the resolution is halved as well (however few buckets are
 * populated): bounds the memory of a series whose values span an extreme range.
 */
const MAX_WINDOW = 4096;

export class NativeBuckets {
  schema: number;
  /** 2^schema: the index of v is ceil(log2(v) * scale). */
  private scale: number;
  zeroCount = 0;
  /** Counts of buckets offset, offset+1, …; grown (and moved) when a value falls outside. */
  counts: Float64Array = new Float64Array(0);
  offset = 0;
  /** Buckets with a count above 0. */
  populated = 0;

  constructor(
    readonly settings: NativeHistogramSettings,
    schema: number,
  ) {
    this.schema = schema;
    this.scale = 2 ** schema;
  }

  /** The bucket index of v > 0 at the current schema. */
  index(v: number): number {
    return Math.ceil(Math.log2(v) * this.scale);
  }

  /** Counts a value (finite, >= 0). */
  observe(v: number): void {
    if (v <= this.settings.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    let k = this.index(v) - this.offset;
    if (k < 0 || k >= this.counts.length) {
      this.grow(k + this.offset);
      // Growing may have halved the resolution: the index again, at the schema now in force.
      k = this.index(v) - this.offset;
    }
    const c = this.counts[k]!;
    this.counts[k] = c + 1;
    if (c === 0 && ++this.populated > this.settings.maxBuckets) this.reduce();
  }

  /** Widens the window to hold index i (with room to spare), halving the resolution when it would get too wide. */
  private grow(i: number): void {
    const old = this.counts;
    if (old.length === 0) {
      this.counts = new Float64Array(16);
      this.offset = i - 8;
      return;
    }
    const lo = Math.min(this.offset, i);
    const hi = Math.max(this.offset + old.length - 1, i);
    const span = hi - lo + 1;
    if (span > MAX_WINDOW && this.schema > MIN_SCHEMA) {
      this.reduce();
      const j = Math.ceil(i / 2);
      if (j - this.offset < 0 || j - this.offset >= this.counts.length) this.grow(j);
      return;
    }
    // Room on the side that grew, so a slowly widening range does not reallocate on every new bucket.
    const pad = Math.max(8, span >> 1);
    const offset = i < this.offset ? lo - pad : lo;
    const next = new Float64Array(span + pad);
    next.set(old, this.offset - offset);
    this.counts = next;
    this.offset = offset;
  }

  /** Halves the resolution (schema - 1): buckets 2j-1 and 2j become bucket j. */
  reduce(): void {
    if (this.schema <= MIN_SCHEMA) return;
    const old = this.counts;
    const oldOffset = this.offset;
    const lo = Math.ceil(oldOffset / 2);
    const hi = Math.ceil((oldOffset + old.length - 1) / 2);
    const next = new Float64Array(Math.max(16, hi - lo + 1));
    let populated = 0;
    for (let k = 0; k < old.length; k++) {
      const c = old[k]!;
      if (c === 0) continue;
      const j = Math.ceil((oldOffset + k) / 2) - lo;
      if (next[j] === 0) populated++;
      next[j] = next[j]! + c;
    }
    this.counts = next;
    this.offset = lo;
    this.populated = populated;
    this.schema--;
    this.scale = 2 ** this.schema;
    if (populated > this.settings.maxBuckets) this.reduce();
  }

  /**
   * The populated buckets as Prometheus' spans and deltas: spans of consecutive buckets (a gap of up to two empty
   * buckets is carried as zero counts rather than a new span), each span's offset from the end of the previous one
   * (the first one's from index 0), and each bucket's count as the difference from the previous bucket's.
   */
  spans(): { spans: [offset: number, length: number][]; deltas: number[] } {
    const spans: [number, number][] = [];
    const deltas: number[] = [];
    const counts = this.counts;
    let prevCount = 0;
    let end = 0; // index after the last bucket of the last span
    let pendingZeros = 0;
    for (let k = 0; k < counts.length; k++) {
      const c = counts[k]!;
      const i = this.offset + k;
      if (c === 0) {
        if (spans.length > 0) pendingZeros++;
        continue;
      }
      if (spans.length === 0) spans.push([i, 1]);
      else if (pendingZeros <= 2) {
        const last = spans[spans.length - 1]!;
        for (let z = 0; z < pendingZeros; z++) {
          deltas.push(-prevCount);
          prevCount = 0;
        }
        last[1] += pendingZeros + 1;
      } else spans.push([i - end, 1]);
      pendingZeros = 0;
      deltas.push(c - prevCount);
      prevCount = c;
      end = i + 1;
    }
    return { spans, deltas };
  }
}
