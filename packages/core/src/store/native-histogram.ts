/**
 * Native (sparse exponential) histogram buckets, kept beside a catalog histogram's classic buckets when
 * `TUIST_TELEMETRY_NATIVE_HISTOGRAMS=true`, in Prometheus' native histogram model: with schema s, bucket index i
 * covers (base^(i-1), base^i] with base = 2^(2^-s); values up to the zero threshold count in the zero bucket.
 * Only non-negative values are recorded here (the store drops the others), so there are no negative buckets.
 */
import { SETTINGS } from '../settings/table.js';

export interface NativeHistogramSettings {
  /** The largest growth factor from one bucket boundary to the next; the schema is the finest one within it. */
  bucketFactor: number;
  /** Populated buckets a series keeps; past it the resolution is halved (schema - 1) until it fits again. */
  maxBuckets: number;
  /** Values at or below it count in the zero bucket. */
  zeroThreshold: number;
}

/** client_golang's defaults, declared in the settings table: factor 1.1 (schema 3), 160 buckets, zero threshold 2^-128. */
export const NATIVE_DEFAULTS: NativeHistogramSettings = {
  bucketFactor: SETTINGS.nativeBucketFactor.default,
  maxBuckets: SETTINGS.nativeMaxBuckets.default,
  zeroThreshold: SETTINGS.nativeZeroThreshold.default,
};

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

/** A double's bytes (little-endian, as every platform Node runs on), for its exponent and mantissa. */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** Per schema 1..8: the bounds 2^(j/2^schema) of the sub-buckets of [1, 2], and a first guess per mantissa slice. */
const tables: { bounds: Float64Array; guess: Uint16Array }[] = [];

function tableFor(schema: number): { bounds: Float64Array; guess: Uint16Array } {
  let t = tables[schema];
  if (t === undefined) {
    const scale = 2 ** schema;
    const bounds = new Float64Array(scale + 1);
    for (let j = 0; j <= scale; j++) bounds[j] = 2 ** (j / scale);
    // guess[m]: the first sub-bucket whose bound reaches 1 + m/256, the lowest mantissa of slice m: never past the
    // right one, at most a step or two before it.
    const guess = new Uint16Array(256);
    for (let m = 0, j = 0; m < 256; m++) {
      while (bounds[j]! < 1 + m / 256) j++;
      guess[m] = j;
    }
    t = tables[schema] = { bounds, guess };
  }
  return t;
}

/**
 * The index of the bucket holding v > 0 at `schema`: ceil(log2(v) * 2^schema), without a logarithm. v = 2^k * M with
 * M in [1, 2) read from its bits; for schema > 0 the sub-bucket of M is found from a table (its bound
 * 2^(j/2^schema) is the first not below M); for schema <= 0 the bounds are powers of two and k decides. Subnormal
 * values take the logarithm.
 */
export function bucketIndex(v: number, schema: number): number {
  F64[0] = v;
  const hi = U32[1]!;
  const e = (hi >>> 20) & 0x7ff;
  if (e === 0) return Math.ceil(Math.log2(v) * 2 ** schema);
  const k = e - 1023;
  const mantissa = hi & 0xfffff;
  const exact = mantissa === 0 && U32[0] === 0;
  if (schema > 0) {
    const scale = 1 << schema;
    // M = 1 (v a power of two) finds sub-bucket 0 by the same search.
    const t = tables[schema] ?? tableFor(schema);
    const bounds = t.bounds;
    const guess = t.guess;
    U32[1] = mantissa | 0x3ff00000;
    const m = F64[0]!;
    let j = guess[mantissa >>> 12]!;
    while (m > bounds[j]!) j++;
    return k * scale + j;
  }
  return Math.ceil((exact ? k : k + 1) / 2 ** -schema);
}

/**
 * The dense window of bucket counts beyond which the resolution is halved as well (however few buckets are
 * populated): bounds the memory of a series whose values span an extreme range.
 */
const MAX_WINDOW = 4096;

export class NativeBuckets {
  schema: number;
  zeroCount = 0;
  /** Counts of buckets offset, offset+1, …; grown (and moved) when a value falls outside. */
  counts: Float64Array = new Float64Array(0);
  offset = 0;
  /** Buckets with a count above 0. */
  populated = 0;

  /** The settings' zero threshold and bucket limit, kept on the instance for the record path. */
  private readonly zeroThreshold: number;
  private readonly maxBuckets: number;

  constructor(
    readonly settings: NativeHistogramSettings,
    schema: number,
  ) {
    this.schema = schema;
    this.zeroThreshold = settings.zeroThreshold;
    this.maxBuckets = settings.maxBuckets;
  }

  /** The bucket index of v > 0 at the current schema. */
  index(v: number): number {
    return bucketIndex(v, this.schema);
  }

  /** Counts a value (finite, >= 0). */
  observe(v: number): void {
    if (v <= this.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    let k = this.index(v) - this.offset;
    if (k < 0 || k >= this.counts.length) {
      this.grow(k + this.offset);
      // Growing may have halved the resolution: the index again, at the schema now in force.
      k = this.index(v) - this.offset;
    }
    const counts = this.counts;
    const c = counts[k]!;
    counts[k] = c + 1;
    if (c === 0 && ++this.populated > this.maxBuckets) this.reduce();
  }

  /** Widens the window to hold index i (with room to spare), halving the resolution when it would get too wide. */
  private grow(i: number): void {
    const old = this.counts;
    if (old.length === 0) {
      this.counts = new Float64Array(8);
      this.offset = i - 4;
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
    const pad = Math.max(4, span >> 3);
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
    const next = new Float64Array(Math.max(8, hi - lo + 1));
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
    if (populated > this.maxBuckets) this.reduce();
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
