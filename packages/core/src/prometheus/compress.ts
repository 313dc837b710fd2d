import os from 'node:os';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import {
  HistogramFamily,
  type AnyFamily,
  type HistogramSeries,
  type MetricStore,
  type Series,
  type ValueSeries,
} from '../store/store.js';
import type { MemberStream } from './gzip-stream.js';
import { serializeSeriesBytes, SeriesFaults, type SerializeOptions } from './serialize.js';

/*
 * Gzip responses as a sequence of gzip members (RFC 1952 §2.2: a gzip file is a series of members; Go's and Node's
 * readers decode the concatenation as one stream). Each member is compressed on libuv's thread pool, a few at once,
 * while the event loop renders the next piece; and the catalog's members are kept between scrapes, so a piece of
 * series that did not change since the last gzip scrape costs a comparison instead of a render and a compression.
 */

/**
 * Plain bytes per gzip member, about (a piece of series is sized for it once; a protobuf body is cut at it). Each
 * member costs a trip to the thread pool and a reset of the compressor: on Node 24 a 10k-series scrape took about 49
 * ms of CPU in 64 KB members, 37-41 ms in 128 KB ones and 37 ms in 256 KB ones. 256 KB pieces (tried) made the gzip scrape of
 * 10k histogram series a little faster on a loaded machine (76 against 83 ms) but doubled the event-loop delay of an
 * app serving 1,000 requests a second while 100k counter series were scraped (p99 14 ms against 6.4, bench case 8).
 */
const MEMBER_BYTES = 128 * 1024;
/** Plain bytes rendered between two yields to the event loop. */
const YIELD_BYTES = 512 * 1024;
/** Series compared with the last scrape's between two yields (a few milliseconds of work). */
const YIELD_SERIES = 100_000;
/** Members compressed at once: the machine's cores, leaving one of the pool's four threads to the host's fs and dns. */
const PARALLEL = Math.max(1, Math.min(3, os.availableParallelism()));
/**
 * Pieces rendered and waiting for a compressor, at most: the render waits for the compressors beyond it, so a scrape
 * holds a few scratch buffers instead of its whole body (rendering outruns compressing).
 */
const MAX_PENDING = PARALLEL * 2;

/** Compressed bytes the zlib stream hands out at a time: a member of MEMBER_BYTES in one piece, most of the time. */
const OUT_CHUNK = 64 * 1024;
/** Idle compressors are closed after this long (each holds zlib's state, about 300 KB). */
const IDLE_MS = 2000;

/**
 * A gzip stream reused for member after member: each write is finished as a whole member (`flush: Z_FINISH`) and
 * the stream is reset for the next. One `zlib.gzip()` per member costs about ten times the compression itself
 * (a new stream and zlib state each time); a reused stream about 1.3 times one long stream.
 */
class Compressor {
  private readonly gz = createGzip({
    level: zlibConstants.Z_BEST_SPEED,
    chunkSize: OUT_CHUNK,
    flush: zlibConstants.Z_FINISH,
  });
  private out: Buffer[] = [];
  failed: unknown = undefined;
  lastUsed = 0;
  constructor() {
    this.gz.on('data', (c: Buffer) => this.out.push(c));
    this.gz.on('error', (err) => (this.failed = err));
  }
  compress(input: Uint8Array): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.gz.write(input, (err) => {
        const out = this.out;
        this.out = [];
        const failure = err ?? this.failed;
        if (failure) return reject(failure instanceof Error ? failure : new Error(String(failure)));
        // deflateReset: the same state, a new member next (typed on Deflate only, present on every zlib stream).
        (this.gz as unknown as { reset(): void }).reset();
        resolve(out.length === 1 ? out[0]! : Buffer.concat(out));
      });
    });
  }
  close(): void {
    this.gz.close();
  }
}

/** Scratch buffers pieces are rendered into, back once their member is compressed (for the length of a scrape). */
const SCRATCH_BYTES = MEMBER_BYTES + 16 * 1024;
const MAX_SCRATCH = MAX_PENDING + 2;
const scratch: Buffer[] = [];

const idle: Compressor[] = [];
const waiting: ((c: Compressor) => void)[] = [];
let created = 0;
let _sweeper: NodeJS.Timeout | undefined;

function release(c: Compressor): void {
  if (c.failed !== undefined) {
    c.close();
    created--;
    // A replacement for the work still waiting.
    if (waiting.length > 0) {
      created++;
      waiting.shift()!(new Compressor());
    }
    return;
  }
  const next = waiting.shift();
  if (next) return next(c);
  c.lastUsed = Date.now();
  idle.push(c);
  _sweeper ??= setTimeout(sweep, IDLE_MS).unref();
}

function sweep(): void {
  _sweeper = undefined;
  const now = Date.now();
  for (let i = idle.length - 1; i >= 0; i--) {
    if (now - idle[i]!.lastUsed >= IDLE_MS) {
      idle.splice(i, 1)[0]!.close();
      created--;
    }
  }
  if (idle.length > 0) _sweeper = setTimeout(sweep, IDLE_MS).unref();
}

/** `input` as one gzip member (level 1, as before), compressed on the thread pool, PARALLEL members at a time. */
export function gzipMember(input: Uint8Array): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const run = (c: Compressor) => {
      c.compress(input)
        .then(resolve, reject)
        .finally(() => release(c));
    };
    const c = idle.pop();
    if (c) run(c);
    else if (created < PARALLEL) {
      created++;
      run(new Compressor());
    } else waiting.push(run);
  });
}

/** A whole body (protobuf) as members of about MEMBER_BYTES, compressed in parallel; never zero members. */
export function gzipBody(body: Buffer): Promise<Buffer[]> {
  const members: Promise<Buffer>[] = [];
  for (let i = 0; i < body.length; i += MEMBER_BYTES) members.push(gzipMember(body.subarray(i, i + MEMBER_BYTES)));
  if (members.length === 0) members.push(gzipMember(body));
  return Promise.all(members);
}

/** One cached piece: consecutive series of a family, what their values were, and their member. */
interface Piece {
  series: Series[];
  /** Per series: histograms `count, sum`; counters and gauges `value`. Every record changes one of them. */
  marks: Float64Array;
  member: Promise<Buffer>;
  /** The member's size once compressed. */
  size: number;
}

interface FamilyPieces {
  /** Series per piece, fixed at the family's first gzip scrape so that pieces keep their boundaries. */
  per: number;
  pieces: (Piece | undefined)[];
}

/** Per family, per options key (format, scope labels, `_created`): the pieces of its last gzip scrape. */
const cache = new WeakMap<AnyFamily, Map<string, FamilyPieces>>();

/** `marksOf`, or undefined when a series' values cannot be read (the piece is then not kept). */
function marksOrUndefined(f: AnyFamily, series: readonly Series[]): Float64Array | undefined {
  try {
    return marksOf(f, series);
  } catch {
    return undefined;
  }
}

function marksOf(f: AnyFamily, series: readonly Series[]): Float64Array {
  if (f instanceof HistogramFamily) {
    const m = new Float64Array(series.length * 2);
    for (let i = 0; i < series.length; i++) {
      const s = series[i] as HistogramSeries;
      m[2 * i] = s.count;
      m[2 * i + 1] = s.sum;
    }
    return m;
  }
  const m = new Float64Array(series.length);
  for (let i = 0; i < series.length; i++) m[i] = (series[i] as ValueSeries).value;
  return m;
}

/**
 * Whether `all[from..to)` are the series of `p` with the values they had then (no allocation). A series whose values
 * cannot be read any more counts as changed: the piece is rendered again, that series left out.
 */
function unchanged(f: AnyFamily, p: Piece, all: readonly Series[], from: number, to: number): boolean {
  try {
    return sameSeries(f, p, all, from, to);
  } catch {
    return false;
  }
}

function sameSeries(f: AnyFamily, p: Piece, all: readonly Series[], from: number, to: number): boolean {
  const { series, marks } = p;
  if (series.length !== to - from) return false;
  // Object.is: NaN equals NaN, 0 and -0 differ (they are written differently).
  if (f instanceof HistogramFamily) {
    for (let i = 0; i < series.length; i++) {
      const s = all[from + i] as HistogramSeries;
      if (series[i] !== s || !Object.is(marks[2 * i], s.count) || !Object.is(marks[2 * i + 1], s.sum)) return false;
    }
    return true;
  }
  for (let i = 0; i < series.length; i++) {
    const s = all[from + i] as ValueSeries;
    if (series[i] !== s || !Object.is(marks[i], s.value)) return false;
  }
  return true;
}

/** Series per piece so that a piece renders to about MEMBER_BYTES (label text ~100 bytes a line, a guess kept). */
function seriesPerPiece(f: AnyFamily, withCreated: boolean): number {
  const lines = (f instanceof HistogramFamily ? f.buckets.length + 3 : 1) + (withCreated ? 1 : 0);
  return Math.max(1, Math.floor(MEMBER_BYTES / (128 * lines)));
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The store followed by `tail`, as gzip members whose concatenation decompresses to exactly what
 * `storeTextExposition(store, opts, tail)` writes. Pieces whose series and values are those of the last gzip
 * scrape reuse its member. A series that throws is left out, as `storeTextExposition` does (reported once per family
 * through `opts.familyFailed`), and the piece it was left out of is not kept: the next scrape renders it again. With
 * `out`, the members are pushed into it in body order as each is compressed, while the next pieces are rendered: the
 * scraper decompresses a family while the rest of it is still being rendered.
 */
export async function gzipStoreMembers(
  store: MetricStore,
  opts: SerializeOptions,
  tail: string,
  out?: MemberStream,
): Promise<Buffer[]> {
  const key = `${opts.format ?? 'text'}|${opts.withCreated === true}|${opts.scopeLabels ?? ''}`;
  const withCreated = opts.withCreated === true && opts.format === 'openmetrics';
  const members: Promise<Buffer>[] = [];
  // Members handed to `out` in body order as each is compressed (one reaction per member).
  const ready: (Buffer | undefined)[] = [];
  let pushed = 0;
  const emit = (p: Promise<Buffer>) => {
    const at = members.push(p) - 1;
    if (!out) return;
    p.then((m) => {
      ready[at] = m;
      while (ready[pushed] !== undefined) {
        out.push(ready[pushed]!);
        ready[pushed++] = undefined;
      }
    }, noop); // a failed member fails the Promise.all below
  };
  const faults = SeriesFaults.of(opts);
  const pending: Promise<unknown>[] = [];
  let rendered = 0;
  let compared = 0;
  for (const f of store.families) {
    let byKey = cache.get(f);
    if (byKey === undefined) cache.set(f, (byKey = new Map()));
    let fp = byKey.get(key);
    if (fp === undefined) byKey.set(key, (fp = { per: seriesPerPiece(f, withCreated), pieces: [] }));
    const all: Series[] = [...f.series];
    const count = Math.max(1, Math.ceil(all.length / fp.per));
    faults?.start();
    try {
      for (let i = 0; i < count; i++) {
        const from = i * fp.per;
        const to = Math.min(all.length, from + fp.per);
        const cached = fp.pieces[i];
        compared += to - from;
        if (cached !== undefined && unchanged(f, cached, all, from, to)) {
          emit(cached.member);
        } else {
          if (pending.length >= MAX_PENDING) await pending.shift();
          const series = all.slice(from, to);
          const marks = marksOrUndefined(f, series);
          const into = scratch.pop() ?? Buffer.allocUnsafe(SCRATCH_BYTES);
          const before = faults?.count ?? 0;
          // Throws only for the family's own part (its header: the first piece, before any member of it is out).
          const bytes = serializeSeriesBytes(f, series, i === 0, opts, SCRATCH_BYTES, into, faults);
          const member = gzipMember(bytes);
          // Back to the scratch list once compressed, unless the piece outgrew it (then `bytes` is another buffer).
          if (bytes.buffer === into.buffer && bytes.byteOffset === into.byteOffset) {
            void member
              .finally(() => {
                if (scratch.length < MAX_SCRATCH) scratch.push(into);
              })
              .catch(() => {});
          }
          const pieces = fp.pieces;
          // A piece with a series left out is not kept: kept, it would be served without that series after the
          // series can be written again (its values, the marks, need not change for that).
          if (marks !== undefined && (faults?.count ?? 0) === before) {
            const piece: Piece = { series, marks, member, size: 0 };
            member.then(
              (m) => (piece.size = m.byteLength),
              () => {
                if (pieces[i] === piece) pieces[i] = undefined;
              },
            );
            pieces[i] = piece;
          } else pieces[i] = undefined;
          emit(member);
          pending.push(member.then(noop, noop));
          rendered += bytes.length;
        }
        if (rendered >= YIELD_BYTES || compared >= YIELD_SERIES) {
          rendered = 0;
          compared = 0;
          await yieldToLoop();
        }
      }
      fp.pieces.length = count;
    } catch (err) {
      byKey.delete(key);
      if (!opts.familyFailed) throw err;
      opts.familyFailed(f.name, err);
      continue;
    }
    faults?.report(f.name);
  }
  if (tail !== '' || members.length === 0) emit(gzipMember(Buffer.from(tail)));
  try {
    return await Promise.all(members);
  } finally {
    // The scratch buffers are not kept between scrapes (six fresh ones per scrape): kept until the compressors went
    // idle, they were counted in the heap a gzip scrape leaves (BENCHMARKS.md row 6d: 12.6 MB per 10k series with
    // them, 12.0 MB without).
    scratch.length = 0;
  }
}

const noop = () => {};

/**
 * Bytes the cache of `store`'s families holds (members, series references at 8 bytes, values), for the bench's
 * memory rows and the README's statement of the cost.
 */
export function gzipCacheBytes(store: MetricStore): number {
  let bytes = 0;
  for (const f of store.families) {
    for (const fp of cache.get(f)?.values() ?? []) {
      for (const p of fp.pieces) {
        if (p === undefined) continue;
        bytes += p.size + p.series.length * 8 + p.marks.byteLength + 64;
      }
    }
  }
  return bytes;
}
