/**
 * The messages between a cluster primary and its workers over the `node:cluster` IPC channel.
 *
 * A snapshot is compact: the values of every series of a worker's store travel as one Float64Array (`id, value` for
 * counters and gauges; `id, bucket counts..., sum, count` for histograms). A series' family and label values are
 * sent once, the first time the primary does not know them yet: every request says how many series ids the primary
 * already knows (`known`), and the worker describes only the series with a higher id. A reply that is lost (a
 * timeout) leaves `known` where it was, so the next reply describes those series again.
 *
 * Series ids belong to one telemetry of a worker (an incarnation, named in its hello and snapshots): a telemetry
 * started again in the same worker numbers from 0, and the primary keeps what the earlier one counted. Within one,
 * what the primary serves of a counter or histogram never goes back: a series that ends, whose id is described as
 * another series, or whose values go back hands its last values to the primary's kept sum (`RetireSeries`).
 *
 * Under the channel's default JSON serialization the Float64Array goes as a base64 string of its bytes; with
 * `cluster.setupPrimary({ serialization: 'advanced' })` it goes as it is.
 */
import {
  HistogramFamily,
  type AnyFamily,
  type HistogramSeries,
  type MetricStore,
  type Series,
  type ValueSeries,
} from '../store/store.js';

/** The marker every message of ours carries (the host's own messages never have it). */
export const PROTOCOL = 'tuist-telemetry/cluster/1';

/** Primary -> worker: send a snapshot. */
export interface CollectRequest {
  readonly tuistTelemetry: typeof PROTOCOL;
  readonly type: 'collect';
  readonly req: number;
  /** Series ids below this are known to the primary: they travel as values only. */
  readonly known: number;
}

/** Primary -> worker: a primary that started after its workers asks them to say hello. */
export interface ProbeRequest {
  readonly tuistTelemetry: typeof PROTOCOL;
  readonly type: 'probe';
}

/** Worker -> primary: telemetry runs in this worker (it will answer collect requests). */
export interface Hello {
  readonly tuistTelemetry: typeof PROTOCOL;
  readonly type: 'hello';
  /**
   * Which telemetry of the worker this is: a worker that shuts telemetry down and starts it again numbers its series
   * from 0 again, so the primary keeps what the previous incarnation counted and starts afresh.
   */
  readonly incarnation?: string;
}

/** Primary -> worker: the answer to a hello (a worker that gets none warns: nobody serves its metrics). */
export interface Welcome {
  readonly tuistTelemetry: typeof PROTOCOL;
  readonly type: 'welcome';
}

/** Worker -> primary: an answer to a collect request, or (`final`) the last values of a worker that shuts down. */
export interface Snapshot {
  readonly tuistTelemetry: typeof PROTOCOL;
  readonly type: 'snapshot' | 'final';
  /** The request answered (-1 for `final`). */
  readonly req: number;
  /** The sender's incarnation (see `Hello`). */
  readonly incarnation?: string;
  /**
   * Set on the `final` of a telemetry that shut down: it answers no request any more, though its process may live on
   * (draining after SIGTERM). Without it (a worker disconnecting itself) the worker answers until its channel closes.
   */
  readonly last?: true;
  /** Every series id below this has been described to the primary by this or an earlier snapshot. */
  readonly next: number;
  /** The families the series descriptions refer to: `[documented name, label names, values per series]`. */
  readonly families: readonly (readonly [string, readonly string[], number])[];
  /** Flat: `id, family index, label values...` per newly described series. */
  readonly defs: readonly (string | number)[];
  /** Flat: `id, values...` per series (see the module comment); base64 of its bytes under JSON serialization. */
  readonly data: Float64Array | string;
}

export type Message = CollectRequest | ProbeRequest | Hello | Welcome | Snapshot;

export function isOurs(msg: unknown): msg is Message {
  return typeof msg === 'object' && msg !== null && (msg as { tuistTelemetry?: unknown }).tuistTelemetry === PROTOCOL;
}

/** Values per series of a family in a snapshot. */
export function widthOf(f: AnyFamily): number {
  return f instanceof HistogramFamily ? f.buckets.length + 3 : 1;
}

/** Worker side: turns the store into snapshots, remembering which series ids it has handed out. */
export class SnapshotEncoder {
  private readonly ids = new WeakMap<Series, number>();
  private nextId = 0;
  private buf = new Float64Array(256);

  constructor(
    private readonly store: MetricStore,
    /** Whether the channel carries typed arrays (`serialization: 'advanced'`); else the data goes as base64. */
    private readonly advanced: boolean,
    private readonly incarnation?: string,
  ) {}

  encode(type: 'snapshot' | 'final', req: number, known: number): Snapshot {
    const families: [string, string[], number][] = [];
    const defs: (string | number)[] = [];
    let buf = this.buf;
    let p = 0;
    for (const f of this.store.families) {
      const width = widthOf(f);
      let familyIndex = -1;
      for (const s of f.series) {
        let id = this.ids.get(s);
        if (id === undefined) {
          id = this.nextId++;
          this.ids.set(s, id);
        }
        if (id >= known) {
          if (familyIndex < 0) familyIndex = families.push([f.def.name, [...f.labelNames], width]) - 1;
          defs.push(id, familyIndex);
          for (const v of s.labelValues) defs.push(v);
        }
        if (p + width + 1 > buf.length) {
          const bigger = new Float64Array(Math.max(buf.length * 2, p + width + 1));
          bigger.set(buf.subarray(0, p));
          buf = this.buf = bigger;
        }
        buf[p++] = id;
        if (f instanceof HistogramFamily) {
          const h = s as HistogramSeries;
          buf.set(h.counts, p);
          p += h.counts.length;
          buf[p++] = h.sum;
          buf[p++] = h.count;
        } else {
          buf[p++] = (s as ValueSeries).value;
        }
      }
    }
    const values = buf.slice(0, p);
    const data = this.advanced
      ? values
      : Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
    return {
      tuistTelemetry: PROTOCOL,
      type,
      req,
      incarnation: this.incarnation,
      next: this.nextId,
      families,
      defs,
      data,
    };
  }
}

/** What the primary knows of one series of a worker: `family` undefined for a family it does not serve. */
export interface SeriesDef {
  readonly family: AnyFamily | undefined;
  readonly width: number;
  /** The worker's label names and values, as a Labels object for `MetricFamily.resolve`. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Told the last values (at `p` in `data`) of a worker's counter or histogram series that a snapshot ends: the series
 * is gone, its id now names another series, or its values went back (a reset). The primary keeps them in its sum, so
 * that no served counter goes back.
 */
export type RetireSeries = (def: SeriesDef, data: Float64Array, p: number) => void;

/** Primary side: the series a worker has described and its last good values. */
export class WorkerSnapshots {
  /** Series ids below this are described in `defs`. */
  known = 0;
  readonly defs = new Map<number, SeriesDef>();
  /** The last valid snapshot's data (flat `id, values...`). */
  last: Float64Array | undefined;
  /** Where each series id starts in `last`. */
  private lastAt = new Map<number, number>();

  /**
   * Validates a snapshot and, only when all of it is valid, takes it as the worker's last values (handing `retire`
   * the counts of the counter and histogram series it ends). Returns why it was rejected (then nothing of it is taken).
   */
  apply(msg: Snapshot, familyOf: (name: string) => AnyFamily | undefined, retire?: RetireSeries): string | undefined {
    const problem = this.tryApply(msg, familyOf, retire);
    // The descriptions kept still match `last`; the worker describes every series again next time.
    if (problem !== undefined) this.known = 0;
    return problem;
  }

  private tryApply(
    msg: Snapshot,
    familyOf: (name: string) => AnyFamily | undefined,
    retire: RetireSeries | undefined,
  ): string | undefined {
    if (!Number.isSafeInteger(msg.next) || msg.next < 0) return 'bad "next"';
    if (!Array.isArray(msg.families) || !Array.isArray(msg.defs)) return 'families or defs missing';
    const fams: { family: AnyFamily | undefined; names: readonly string[]; width: number }[] = [];
    for (const entry of msg.families as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 3) return 'bad family entry';
      const [name, names, width] = entry as [unknown, unknown, unknown];
      if (typeof name !== 'string' || !Array.isArray(names) || !names.every((n) => typeof n === 'string'))
        return 'bad family entry';
      if (!Number.isSafeInteger(width) || (width as number) < 1) return 'bad family width';
      const family = familyOf(name);
      // A family the primary does not serve (runtime metrics off here) or shapes differently is skipped, not fatal.
      const usable = family !== undefined && widthOf(family) === width ? family : undefined;
      fams.push({ family: usable, names: names as string[], width: width as number });
    }
    const fresh = new Map<number, SeriesDef>();
    const defs = msg.defs;
    for (let i = 0; i < defs.length; ) {
      const id = defs[i];
      const fam = fams[defs[i + 1] as number];
      if (!Number.isSafeInteger(id) || (id as number) < 0 || fam === undefined) return 'bad series description';
      const labels: Record<string, string> = {};
      for (let j = 0; j < fam.names.length; j++) {
        const v = defs[i + 2 + j];
        if (typeof v !== 'string') return 'bad label value';
        labels[fam.names[j]!] = v;
      }
      fresh.set(id as number, { family: fam.family, width: fam.width, labels });
      i += 2 + fam.names.length;
    }
    const data = toFloat64(msg.data);
    if (data === undefined) return 'bad data';
    const at = new Map<number, number>();
    for (let p = 0; p < data.length; ) {
      const id = data[p]!;
      const def = fresh.get(id) ?? this.defs.get(id);
      if (def === undefined) return `series ${id} was never described`;
      if (at.has(id)) return `series ${id} appears twice`;
      at.set(id, p);
      if (p + 1 + def.width > data.length) return 'data ends inside a series';
      const counterLike = def.family === undefined || def.family.def.type !== 'gauge';
      for (let k = p + 1; k <= p + def.width; k++) {
        const v = data[k]!;
        if (!Number.isFinite(v) || (counterLike && v < 0)) return `bad value ${v}`;
      }
      p += 1 + def.width;
    }
    // Valid: what this snapshot ends of the previous one is kept by the primary.
    const last = this.last;
    if (retire !== undefined && last !== undefined) {
      for (const [id, p] of this.lastAt) {
        const old = this.defs.get(id)!;
        if (old.family === undefined || old.family.def.type === 'gauge') continue;
        const q = at.get(id);
        const now = q === undefined ? undefined : (fresh.get(id) ?? old);
        if (now === undefined || !sameSeries(old, now) || wentBack(last, p, data, q!, old.width)) retire(old, last, p);
      }
    }
    for (const [id, def] of fresh) {
      const old = this.defs.get(id);
      // A description of a series the primary already knows keeps the known one (the view caches its target by it).
      if (old === undefined || !sameSeries(old, def)) this.defs.set(id, def);
    }
    // Every live series is in every snapshot: a described series missing here is gone.
    if (this.defs.size > at.size) for (const id of this.defs.keys()) if (!at.has(id)) this.defs.delete(id);
    this.known = Math.max(this.known, msg.next);
    this.last = data;
    this.lastAt = at;
    return undefined;
  }
}

function sameSeries(a: SeriesDef, b: SeriesDef): boolean {
  if (a.family !== b.family || a.width !== b.width) return false;
  const ka = Object.keys(a.labels);
  if (ka.length !== Object.keys(b.labels).length) return false;
  for (const k of ka) if (a.labels[k] !== b.labels[k]) return false;
  return true;
}

/** Whether any value of a series is lower than before (a counter or histogram that restarted). */
function wentBack(before: Float64Array, p: number, now: Float64Array, q: number, width: number): boolean {
  for (let k = 1; k <= width; k++) if (now[q + k]! < before[p + k]!) return true;
  return false;
}

function toFloat64(data: unknown): Float64Array | undefined {
  if (data instanceof Float64Array) return data;
  if (typeof data !== 'string') return undefined;
  const bytes = Buffer.from(data, 'base64');
  if (bytes.byteLength % 8 !== 0) return undefined;
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
