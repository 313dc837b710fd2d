import { isValidId, type Exemplar } from '../store/exemplars.js';
import type { NativeBuckets } from '../store/native-histogram.js';
import {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  type AnyFamily,
  type MetricStore,
  type Series,
} from '../store/store.js';
import { lastSize, rememberSize } from './caches.js';
import { FIXED64, LEN, ProtoWriter, encodeLabels, key } from './pb-writer.js';

/*
 * The protobuf exposition (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
 * encoding=delimited`): each family one length-prefixed `io.prometheus.client.MetricFamily` message, written straight
 * from the store like the text writer (serialize.ts). The field numbers are those of `io/prometheus/client/metrics.proto`
 * (prometheus/client_model).
 */

/** MetricFamily fields and the MetricType enum. */
const FAMILY_NAME = 1;
const FAMILY_HELP = 2;
const FAMILY_TYPE = 3;
const FAMILY_METRIC = 4;
export const METRIC_TYPE = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

/** Metric fields. */
const METRIC_LABEL = 1;
const METRIC_GAUGE = 2;
const METRIC_COUNTER = 3;
const METRIC_HISTOGRAM = 7;

/** Histogram, Bucket, Exemplar and Timestamp fields. */
const HISTOGRAM_COUNT = 1;
const HISTOGRAM_SUM = 2;
const HISTOGRAM_BUCKET = 3;
const HISTOGRAM_CREATED = 15;
const COUNTER_CREATED = 3;
const BUCKET_COUNT = 1;
const BUCKET_BOUND = 2;
const BUCKET_EXEMPLAR = 3;
/** Native histogram fields (of Histogram) and BucketSpan's. */
const NATIVE_SCHEMA = 5;
const NATIVE_ZERO_THRESHOLD = 6;
const NATIVE_ZERO_COUNT = 7;
const NATIVE_POSITIVE_SPAN = 12;
const NATIVE_POSITIVE_DELTA = 13;
const NATIVE_EXEMPLARS = 16;
const SPAN_OFFSET = 1;
const SPAN_LENGTH = 2;
const EXEMPLAR_LABEL = 1;
const EXEMPLAR_VALUE = 2;
const EXEMPLAR_TIMESTAMP = 3;

export interface ProtobufOptions {
  /** Labels put on every series (`otel_scope_name`, `otel_scope_version`), opt-in. */
  scopeLabels?: readonly (readonly [string, string])[];
  /** Told about a family that could not be written (the body holds none of it); without it, the error is thrown. */
  familyFailed?: (name: string, err: unknown) => void;
  /** Leave native buckets out (the store keeps them for OTLP exponential histograms only); default: served. */
  withoutNative?: boolean;
}

/** The encoded `label` fields of a series (empty values left out, as the text formats do), built once and kept. */
const labelBytes = new WeakMap<Series, Buffer>();

function seriesLabels(names: readonly string[], s: Series, extra: ProtobufOptions['scopeLabels']): Buffer {
  let b = labelBytes.get(s);
  if (b === undefined) {
    const pairs: (readonly [string, string])[] = [];
    for (let i = 0; i < names.length; i++) if (s.labelValues[i] !== '') pairs.push([names[i]!, s.labelValues[i]!]);
    if (extra) pairs.push(...extra);
    b = encodeLabels(METRIC_LABEL, pairs);
    labelBytes.set(s, b);
  }
  return b;
}

/** Writes a bucket's exemplar (trace_id and span_id labels, value, timestamp); nothing when its ids are not valid. */
function writeExemplar(w: ProtoWriter, field: number, e: Exemplar): void {
  const { traceId, spanId } = e;
  if (!isValidId(traceId, 32) || !isValidId(spanId, 16)) return;
  const start = w.open(field);
  writeLabel(w, 'trace_id', traceId.toLowerCase());
  writeLabel(w, 'span_id', spanId.toLowerCase());
  w.double(EXEMPLAR_VALUE, e.value);
  writeTimestamp(w, EXEMPLAR_TIMESTAMP, e.timestamp);
  w.close(start);
}

/**
 * The native half of a Histogram message: schema, zero bucket, positive spans and deltas (each delta its own field,
 * as proto2 repeated fields are unpacked), and the classic buckets' exemplars again in `exemplars`, where native
 * histograms look for theirs.
 */
function writeNative(w: ProtoWriter, n: NativeBuckets, exemplars: readonly (Exemplar | undefined)[] | undefined): void {
  w.sint(NATIVE_SCHEMA, n.schema);
  w.double(NATIVE_ZERO_THRESHOLD, n.settings.zeroThreshold);
  w.uint(NATIVE_ZERO_COUNT, n.zeroCount);
  const { spans, deltas } = n.spans();
  for (const [offset, length] of spans) {
    const span = w.open(NATIVE_POSITIVE_SPAN);
    w.sint(SPAN_OFFSET, offset);
    w.uint(SPAN_LENGTH, length);
    w.close(span);
  }
  for (const d of deltas) w.sint(NATIVE_POSITIVE_DELTA, d);
  if (exemplars !== undefined) for (const e of exemplars) if (e !== undefined) writeExemplar(w, NATIVE_EXEMPLARS, e);
}

/** One exemplar label (a LabelPair), written in place. */
function writeLabel(w: ProtoWriter, name: string, value: string): void {
  const pair = w.open(EXEMPLAR_LABEL);
  w.string(1, name);
  w.string(2, value);
  w.close(pair);
}

/** A `google.protobuf.Timestamp` field from milliseconds since the epoch. */
export function writeTimestamp(w: ProtoWriter, field: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  const start = w.open(field);
  if (seconds !== 0) w.uint(1, seconds);
  if (nanos !== 0) w.uint(2, nanos);
  w.close(start);
}

/** Bytes written between two yields (as the text writer). */
const SLICE_BYTES = 1 << 20;

function* writeStore(w: ProtoWriter, store: MetricStore, opts: ProtobufOptions): Generator<void, void, void> {
  const slice = { next: w.pos + SLICE_BYTES };
  for (const f of store.families) {
    // A family with no series is left out: Prometheus' protobuf parser takes a family to hold at least one metric
    // (and PromQL sees nothing of an empty family in the text formats either).
    if (f.series.size === 0) continue;
    // Whole or not at all, as the text writer: a family that throws is taken out again and reported.
    const start = w.pos;
    try {
      yield* writeFamily(w, f, opts.scopeLabels, slice, opts.withoutNative === true);
    } catch (err) {
      w.pos = start;
      if (!opts.familyFailed) throw err;
      opts.familyFailed(f.name, err);
    }
  }
}

/**
 * One family: its name is the text formats' sample name (`f.name`; a histogram's series are `<name>_bucket`, `_sum`,
 * `_count` to Prometheus either way, and a catalog counter documented without `_total` keeps its name, as protobuf
 * counters are not renamed).
 */
function* writeFamily(
  w: ProtoWriter,
  f: AnyFamily,
  extra: ProtobufOptions['scopeLabels'],
  slice: { next: number },
  withoutNative: boolean,
): Generator<void, void, void> {
  const family = w.open(0);
  w.string(FAMILY_NAME, f.name);
  w.string(FAMILY_HELP, f.def.description);
  w.uint(FAMILY_TYPE, METRIC_TYPE[f.def.type]);
  if (f instanceof HistogramFamily) {
    const bounds = f.buckets;
    for (const s of f.series) {
      const metric = w.open(FAMILY_METRIC);
      w.bytes(seriesLabels(f.labelNames, s, extra));
      const h = w.open(METRIC_HISTOGRAM);
      w.uint(HISTOGRAM_COUNT, s.count);
      w.double(HISTOGRAM_SUM, s.sum);
      const counts = s.counts;
      const exemplars = s.exemplars;
      let cum = 0;
      // Every bound, then +Inf (explicit, so that its exemplar has a bucket to ride on; its count is every
      // observation, as the text formats' +Inf line).
      for (let i = 0; i <= bounds.length; i++) {
        const last = i === bounds.length;
        cum = last ? s.count : cum + counts[i]!;
        const ex = exemplars?.[i];
        w.reserve(24);
        const buf = w.buf;
        buf[w.pos++] = key(HISTOGRAM_BUCKET, LEN);
        const b = w.pos++;
        w.uint(BUCKET_COUNT, cum);
        buf[w.pos++] = key(BUCKET_BOUND, FIXED64);
        buf.writeDoubleLE(last ? Infinity : bounds[i]!, w.pos);
        w.pos += 8;
        if (ex === undefined) w.buf[b] = w.pos - b - 1;
        else {
          writeExemplar(w, BUCKET_EXEMPLAR, ex);
          w.close(b);
        }
      }
      if (s.native !== undefined && !withoutNative) writeNative(w, s.native, exemplars);
      writeTimestamp(w, HISTOGRAM_CREATED, s.start);
      w.close(h);
      w.close(metric);
      if (w.pos >= slice.next) {
        yield;
        slice.next = w.pos + SLICE_BYTES;
      }
    }
  } else if (f instanceof CounterFamily || f instanceof GaugeFamily) {
    const field = f instanceof CounterFamily ? METRIC_COUNTER : METRIC_GAUGE;
    for (const s of f.series) {
      const metric = w.open(FAMILY_METRIC);
      w.bytes(seriesLabels(f.labelNames, s, extra));
      const v = w.open(field);
      w.double(1, s.value);
      // A counter's start (Prometheus' created timestamp): when its series was created, start-up for the ones that
      // exist from start-up.
      if (field === METRIC_COUNTER) writeTimestamp(w, COUNTER_CREATED, s.start);
      w.close(v);
      w.close(metric);
      if (w.pos >= slice.next) {
        yield;
        slice.next = w.pos + SLICE_BYTES;
      }
    }
  }
  w.close(family);
}

/**
 * Serialises core's store as length-delimited MetricFamily messages, followed by `tail` (third-party metrics and
 * target_info, already encoded). The event loop runs between slices of about a megabyte, as for the text formats.
 */
export async function serializeStoreProtobufAsync(
  store: MetricStore,
  opts: ProtobufOptions = {},
  tail?: Uint8Array,
): Promise<Buffer> {
  const w = new ProtoWriter(lastSize(store) + 1024 + (tail?.length ?? 0));
  for (const _ of writeStore(w, store, opts)) await new Promise<void>((resolve) => setImmediate(resolve));
  if (tail !== undefined) w.bytes(tail);
  rememberSize(store, w.pos);
  return w.buf.subarray(0, w.pos);
}
