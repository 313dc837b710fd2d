import { isValidId, type Exemplar } from '../store/exemplars.js';
import { GrowableBuffer } from './byte-buffer.js';
import {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  type AnyFamily,
  type HistogramSeries,
  type MetricStore,
  type Series,
  type ValueSeries,
} from '../store/store.js';
import { bucketLabels, fitsNextBody, lastSize, rememberSize, seriesLabelText } from './caches.js';
import { familyHeader, formatValue, type ExpositionFormat } from './format.js';

export interface SerializeOptions {
  /** Extra label text put on every sample (`otel_scope_name="…",…`), opt-in. */
  scopeLabels?: string;
  /** Text 0.0.4 (default) or OpenMetrics 1.0 (HELP/TYPE per its rules; the caller's tail ends with `# EOF`). */
  format?: ExpositionFormat;
  /**
   * Told, once per family, about series that could not be written (`series` of them, `err` the first one's error):
   * the body holds none of their lines and the rest of the family is written. `series` undefined: the family itself
   * could not be written (its header, say) and the body holds none of it. Without it, the error is thrown.
   */
  familyFailed?: (name: string, err: unknown, series?: number) => void;
  /** In OpenMetrics, a `_created` sample (the series' creation, seconds) after each counter and histogram series. */
  withCreated?: boolean;
}

const NEWLINE = 10;
const SPACE = 32;
const COMMA = 44;
const ZERO = 48;
const CLOSE_BRACE = 125;

/** The text exposition's writer: UTF-8 text, bytes and numbers into the shared growable buffer. */
class ByteWriter extends GrowableBuffer {
  /** UTF-8 text (at most 3 bytes per UTF-16 unit). */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }
  /** A number as `formatValue` writes it. */
  number(v: number): void {
    this.reserve(MAX_NUMBER_BYTES);
    this.pos = writeNumber(this.buf, this.pos, v);
  }
}

/** Longest `formatValue` output (`-1.7976931348623157e+308` is 24 characters), rounded up. */
const MAX_NUMBER_BYTES = 32;

/**
 * Writes `v` as `formatValue` spells it at `pos` (room for MAX_NUMBER_BYTES must be reserved); small non-negative
 * integers (counts) as digits without a string in between. Returns the position after it.
 */
function writeNumber(buf: Buffer, pos: number, v: number): number {
  if (!(v >= 0 && v < 2147483648 && (v | 0) === v)) return pos + buf.write(formatValue(v), pos, 'latin1');
  let n = v | 0;
  let len = 1;
  for (let m = n; m >= 10; m = (m / 10) | 0) len++;
  let p = pos + len;
  do {
    const q = (n / 10) | 0;
    buf[--p] = ZERO + n - q * 10;
    n = q;
  } while (n > 0);
  return pos + len;
}

/** ` # {trace_id="<32 hex>",span_id="<16 hex>"} <value> <seconds>`: ids of well-formed spans are hex, numbers latin1. */
const MAX_EXEMPLAR_BYTES = 48 + 32 + 16 + 2 * MAX_NUMBER_BYTES;

/**
 * An exemplar's text, or '' when its ids are not a valid span context (the store keeps only valid ones; this writer
 * does not rely on it): ids lower-cased, the timestamp in seconds with milliseconds.
 */
function exemplarText(e: Exemplar): string {
  const { traceId, spanId } = e;
  if (!isValidId(traceId, 32) || !isValidId(spanId, 16)) return '';
  return (
    ' # {trace_id="' +
    traceId.toLowerCase() +
    '",span_id="' +
    spanId.toLowerCase() +
    '"} ' +
    formatValue(e.value) +
    ' ' +
    (e.timestamp / 1000).toFixed(3)
  );
}

/**
 * The series of one family that could not be written: how many, and the first one's error. A writer that is given
 * one leaves such a series out (its bytes taken back) and goes on with the next; without one it throws. One per
 * scrape, started again for each family; the family's writer reports it once at the family's end.
 */
export class SeriesFaults {
  count = 0;
  first: unknown = undefined;

  constructor(private readonly familyFailed: NonNullable<SerializeOptions['familyFailed']>) {}

  /** A scrape's faults when the caller is told of them (`familyFailed`); else undefined: a series throws. */
  static of(opts: SerializeOptions): SeriesFaults | undefined {
    return opts.familyFailed ? new SeriesFaults(opts.familyFailed) : undefined;
  }

  /** Starts the count of the next family. */
  start(): void {
    this.count = 0;
    this.first = undefined;
  }

  /** Counts a series left out, keeping the first error. */
  add(err: unknown): void {
    if (this.count++ === 0) this.first = err;
  }

  /** Tells `familyFailed` about family `name`'s series left out, once, if any. */
  report(name: string): void {
    if (this.count > 0) this.familyFailed(name, this.first, this.count);
  }
}

/** Bytes written between two yields of `writeStore` (about a millisecond or two of work each). */
const SLICE_BYTES = 1 << 20;

/**
 * Writes the store into `w`, yielding after about every SLICE_BYTES so that an async caller can let the event loop
 * run between slices (a scrape of a large store then never blocks it for long). Each series is written whole.
 */
function* writeStore(w: ByteWriter, store: MetricStore, opts: SerializeOptions): Generator<void, void, void> {
  const slice = { next: w.pos + SLICE_BYTES };
  const faults = SeriesFaults.of(opts);
  for (const f of store.families) {
    // A series that throws (a value the writer cannot handle) is taken out of the body again and the family goes on
    // with the next (writeFamily); a family whose own part throws (its header) is taken out whole. Either is
    // reported once per family, and the scrape goes on with the next family.
    const start = w.pos;
    faults?.start();
    try {
      yield* writeFamily(
        w,
        f,
        f.series,
        true,
        opts.scopeLabels,
        opts.format ?? 'text',
        slice,
        opts.withCreated === true,
        faults,
      );
    } catch (err) {
      w.pos = start;
      if (!opts.familyFailed) throw err;
      opts.familyFailed(f.name, err);
      continue;
    }
    faults?.report(f.name);
  }
}

/**
 * Writes one family (HELP and TYPE when `header`, then `series`), yielding after about every SLICE_BYTES. A series
 * that throws is taken back to its first byte and counted in `faults` (thrown without): the family's other series are
 * written. One try per series, none per sample: V8 optimises it away while nothing throws.
 */
function* writeFamily(
  w: ByteWriter,
  f: AnyFamily,
  series: Iterable<Series>,
  header: boolean,
  extra: string | undefined,
  format: ExpositionFormat,
  slice: { next: number },
  withCreated: boolean,
  faults: SeriesFaults | undefined,
): Generator<void, void, void> {
  const name = f.name;
  if (header) w.text(familyHeader(name, f.def.type, f.def.description, format));
  // `<family>_created`: OpenMetrics counters (a documented counter without `_total` is served untyped, which has no
  // `_created`) and histograms, on request.
  const created =
    withCreated && format === 'openmetrics'
      ? f instanceof HistogramFamily
        ? name + '_created'
        : f instanceof CounterFamily && name.endsWith('_total')
          ? name.slice(0, -'_total'.length) + '_created'
          : undefined
      : undefined;
  if (f instanceof HistogramFamily) {
    const les = bucketLabels(f);
    const lines = les.length;
    let longestLe = 0;
    for (const le of les) longestLe = Math.max(longestLe, le.length);
    const open = Buffer.from(name + '_bucket{');
    const sumOpen = Buffer.from(name + '_sum{');
    const countOpen = Buffer.from(name + '_count{');
    for (const s of series as Iterable<HistogramSeries>) {
      // Where the series starts: a series that throws is taken back to here.
      const start = w.pos;
      try {
        const lt = seriesLabelText(f.labelNames, s, extra);
        // The first line's `name_bucket{labels,` is written once and copied for the other lines of the series.
        w.bytes(open);
        if (lt !== '') {
          w.text(lt);
          w.byte(COMMA);
        }
        const plen = w.pos - start;
        // Room for every line of the series: the bucket lines, then _sum and _count (shorter heads, same labels).
        // OpenMetrics carries the buckets' exemplars (` # {trace_id="…",span_id="…"} value timestamp`).
        const exemplars = format === 'openmetrics' ? s.exemplars : undefined;
        w.reserve(
          (plen + longestLe + MAX_NUMBER_BYTES + 1 + (exemplars !== undefined ? MAX_EXEMPLAR_BYTES : 0)) * (lines + 2),
        );
        const buf = w.buf;
        let pos = w.pos;
        const counts = s.counts;
        let cum = 0;
        // Copied through a view with set(): on Node 22 and 24 about a third cheaper than copyWithin (a C++ builtin).
        const prefix = buf.subarray(start, start + plen);
        for (let i = 0; i < lines; i++) {
          if (i > 0) {
            buf.set(prefix, pos);
            pos += plen;
          }
          const le = les[i]!;
          for (let j = 0; j < le.length; j++) buf[pos + j] = le[j]!;
          pos += le.length;
          // The last line is +Inf: every observation, however the buckets add up.
          cum = i < lines - 1 ? cum + counts[i]! : s.count;
          pos = writeNumber(buf, pos, cum);
          const ex = exemplars?.[i];
          if (ex !== undefined) pos += buf.write(exemplarText(ex), pos, 'latin1');
          buf[pos++] = NEWLINE;
        }
        // `name_sum{labels} ` and `name_count{labels} `: the label bytes are copied from the prefix written above.
        const labels = lt === '' ? prefix : prefix.subarray(open.length, plen - 1); // before the comma
        for (let k = 0; k < 2; k++) {
          const head = k === 0 ? sumOpen : countOpen;
          if (lt === '') {
            for (let j = 0; j < head.length - 1; j++) buf[pos + j] = head[j]!;
            pos += head.length - 1;
          } else {
            for (let j = 0; j < head.length; j++) buf[pos + j] = head[j]!;
            pos += head.length;
            buf.set(labels, pos);
            pos += labels.length;
            buf[pos++] = CLOSE_BRACE;
          }
          buf[pos++] = SPACE;
          pos = writeNumber(buf, pos, k === 0 ? s.sum : s.count);
          buf[pos++] = NEWLINE;
        }
        w.pos = pos;
        if (created !== undefined) writeCreated(w, created, lt, s.start);
      } catch (err) {
        leaveOut(w, start, faults, err);
      }
      if (w.pos >= slice.next) {
        yield;
        slice.next = w.pos + SLICE_BYTES;
      }
    }
  } else if (f instanceof CounterFamily || f instanceof GaugeFamily) {
    for (const s of series as Iterable<ValueSeries>) {
      const start = w.pos;
      try {
        const lt = seriesLabelText(f.labelNames, s, extra);
        w.text(lt === '' ? name + ' ' : name + '{' + lt + '} ');
        w.number(s.value);
        w.byte(NEWLINE);
        if (created !== undefined) writeCreated(w, created, lt, s.start);
      } catch (err) {
        leaveOut(w, start, faults, err);
      }
      if (w.pos >= slice.next) {
        yield;
        slice.next = w.pos + SLICE_BYTES;
      }
    }
  }
}

/** A series that threw: its bytes are taken back (from `start`) and it is counted in `faults`; thrown without. */
function leaveOut(w: ByteWriter, start: number, faults: SeriesFaults | undefined, err: unknown): void {
  w.pos = start;
  if (faults === undefined) throw err;
  faults.add(err);
}

/** `name{labels} <seconds>` (milliseconds as decimals): a series' `_created` sample. */
function writeCreated(w: ByteWriter, name: string, lt: string, startMs: number): void {
  w.text((lt === '' ? name + ' ' : name + '{' + lt + '} ') + (startMs / 1000).toFixed(3) + '\n');
}

/**
 * Serialises core's store, followed by `tail` (third-party metrics, target_info), as the UTF-8 bytes of the
 * exposition: what the endpoint sends. Label text is built once per series and kept; a histogram series writes its
 * line prefix once and copies it for its other lines; counts are written as digits without intermediate strings.
 * The event loop runs between slices of about a megabyte, so a scrape of a large store delays the host's other
 * work by a slice at a time instead of the whole body.
 */
export async function storeTextExposition(
  store: MetricStore,
  opts: SerializeOptions = {},
  tail = '',
  into?: Buffer,
): Promise<Buffer> {
  const extra = 1024 + tail.length * 3;
  // `into`: a buffer of an earlier body nobody holds any more (render.ts), written into when it is big enough.
  const reuse = into !== undefined && fitsNextBody(store, into.length, extra);
  const w = new ByteWriter(lastSize(store) + extra, reuse ? into : undefined);
  for (const _ of writeStore(w, store, opts)) await new Promise<void>((resolve) => setImmediate(resolve));
  return finish(w, store, tail);
}

/**
 * The bytes of `series` (consecutive series of family `f`), with the family's HELP and TYPE first when `header`:
 * one piece of the body `storeTextExposition` writes, for a writer that caches pieces (compress.ts); written
 * into `into` while it has room (a scratch buffer the caller reuses). A series that throws is left out and counted
 * in `faults` (without it, thrown); what the family's own part throws (its header) is thrown.
 */
export function serializeSeriesBytes(
  f: AnyFamily,
  series: readonly Series[],
  header: boolean,
  opts: SerializeOptions,
  sizeHint: number,
  into?: Buffer,
  faults?: SeriesFaults,
): Buffer {
  const w = new ByteWriter(sizeHint, into);
  const slice = { next: Infinity };
  for (const _ of writeFamily(
    w,
    f,
    series,
    header,
    opts.scopeLabels,
    opts.format ?? 'text',
    slice,
    opts.withCreated === true,
    faults,
  ));
  return w.buf.subarray(0, w.pos);
}

function finish(w: ByteWriter, store: MetricStore, tail: string): Buffer {
  if (tail !== '') w.text(tail);
  rememberSize(store, w.pos);
  return w.buf.subarray(0, w.pos);
}
