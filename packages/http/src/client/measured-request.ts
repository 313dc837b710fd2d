import type { Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import type { RequestLabelSet } from './label-sets.js';
import type { HttpRecorder } from './recorder.js';
import { reportInternalError } from './report.js';

/*
 * The phases after a connection was assigned come from the request's own handler callbacks: an instrumented client
 * hands undici a MeasuredRequest that stands in for the caller's handler and forwards every callback to it.
 *
 * Why not undici's diagnostics channels (until this change): they cost every undici request in the process (other
 * dispatchers, Node's bundled fetch) six publishes with their message objects once subscribed, and tying an event
 * to its request needed a symbol property added to undici's Request object and a hand-over from `Client.dispatch`
 * to `request:create`. A handler is reached only by the requests of an instrumented agent and costs this one object
 * per request (it is also the request's state) and a forwarding call per callback.
 * Measured on Node 24 (the undici bench, client CPU per request against a ~16-18 µs plain Agent, a busy 2-core
 * machine): the channel version cost +2.7 µs, this one +1.6 to +2.1 µs at first, then about +0.5 to +0.8 µs (1.02-1.05x)
 * once (1) each label set keeps its series (core's CounterRef/HistogramRef: the nine recordings of a request skipped
 * a trie lookup each, 0.27 µs in a `--cpu-prof`), (2) the pools measure instead of an `Agent.dispatch` override (the
 * pool parsed its origin once; no per-request origin lookup, 0.15 µs), and (3) a request handed to a free client
 * while its pool dispatches it reuses the dispatch time as its queue end, (4) the send phase starts at the assignment
 * without a clock read (onConnect), and (5) the four counters rise on core's PendingCount (a field increment, added
 * to the family at collection). What is left: four clock reads (dispatch, taken from the pool's queue, send end, end;
 * `performance.now()` at 36-47 ns each on the reference VM's clock), five histogram recordings through refs, this
 * object, and undici calling one more object per callback. Under load undici hands almost every request to a client
 * from the pool's queue (with pipelining 1 a client takes the next request a setImmediate after a response), so the
 * hand-over shortcut seldom applies there, and the queue read is a real wait. Taken apart with the client and the
 * server pinned to their own CPUs (Node 24.22, 3 process sets of 10 rounds per variant, client CPU ratio to plain;
 * run to run +-1.5%): all of it 1.05-1.06x; without any clock read 1.04x; without clock reads and recordings
 * 1.01-1.02x; the subclasses alone (pool and client pass everything on) 0.99-1.00x. So about 2% is the clock, 1.5-2%
 * the recordings (in place, with undici's working set around them, a histogram record costs several times its 3-5 ns
 * in a loop: a `--cpu-prof` puts most of it on the bucket search's loads), and 1.5% this object and the
 * forwarding, spread over a dozen small functions. Buffering the histogram recordings per label set and folding them
 * 32 at a time showed nothing (A/B against this code, pinned, 12 process sets: client CPU 1.003x vs 1.003x/0.999x).
 * Reusing the taken read as the send end of a request written at once does not apply: undici writes a request taken
 * from the pool's queue after `Client.dispatch` returned (its resume loop is running): 0 of 5,000 were written
 * inside it. No extra async hop: every callback is forwarded synchronously, and the instrumented throughput follows
 * the client CPU. The request's handler API is the legacy one (`request()`'s RequestHandler has
 * `onConnect`/`onHeaders`/...), as is this class: undici adds no adapter for either.
 *
 * What undici calls on a handler of a Client (core/request.js, undici 7): `onConnect(abort)` right before the headers
 * are written (writing starts; the `client:sendHeaders` channel fired a few statements later), `onRequestSent()` once
 * the body was written (`request:bodySent`), `onBodySent(chunk)` only if the handler has it, `onResponseStarted()` if
 * the handler has it, `onHeaders`/`onData`/`onComplete` (`request:headers`, `request:trailers`), `onUpgrade` for
 * upgrades and CONNECT (`headers`, then `trailers` unless it threw), `onError` once (`request:error`). Pools and
 * agents hand a Client the legacy form of the caller's handler (undici unwraps an `onRequestStart`-style handler at
 * the first dispatcher), so the legacy methods are the ones to forward. Return values (`false` from onHeaders/onData
 * is backpressure) and exceptions of the caller's handler pass through unchanged; the instrumentation's own failures
 * are caught and reported.
 */

/**
 * The clock of the request phases: `globalThis.performance` is an accessor property on Node, so `performance.now()`
 * calls a getter before every read; this module binding reads the same object once (the agent reads it too).
 */
export const clock: typeof performance = performance;

/** One undici Client of an instrumented pool: it holds one connection at a time. */
export interface ConnectionState {
  /** The current socket, set when the connector established it. */
  socket: Socket | undefined;
  /** `performance.now()` when the last request on this connection ended; -1 while it has served none. */
  idleSince: number;
  /** `performance.now()` when the current socket was established; -1 before the first. */
  connectedAt: number;
  /** The request assigned last (with one request per connection: the one a new connection is opened for). */
  current: MeasuredRequest | undefined;
}

type LegacyHandler = Dispatcher.DispatchHandler & {
  onConnect(abort: (err?: Error) => void): void;
  onError(err: Error): void;
  onHeaders?(statusCode: number, headers: unknown, resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: unknown): void;
  onUpgrade?(statusCode: number, headers: unknown, socket: unknown): void;
  onBodySent?(chunk: unknown): void;
  onRequestSent?(): void;
  onResponseStarted?(): void;
};

/** What is known about one request, from dispatch to its end, and its handler once a client took it. */
export class MeasuredRequest {
  conn: ConnectionState | undefined = undefined;
  /** `performance.now()` values; -1 until they happened. */
  sendStart = -1;
  sendEnd = -1;
  statusCode: number | undefined = undefined;
  done = false;
  /** `performance.now()` when a client took the request; -1 while it waits in the pool's queue. */
  takenAt = -1;
  /** The caller's handler (legacy form), set by the pool; `refused`: undici's check refuses it (see handlerFit). */
  handler: LegacyHandler | undefined = undefined;
  refused = false;

  constructor(
    /** Where to record; `undefined` for an ignored request (kept only for the connection's idle bookkeeping). */
    readonly recorder: HttpRecorder | undefined,
    readonly set: RequestLabelSet,
    /** `performance.now()` at dispatch. */
    readonly start: number,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    // The send phase starts when a connection was assigned (the catalog's definition), or when it was established if
    // one had to be opened for the request: both moments are known, so the clock is not read here (a read costs
    // about 40 ns on the reference machine, a fifth of what a request's measuring costs). Once only: a request undici
    // writes again on a new connection (an idempotent one whose keep-alive socket was reset) keeps its first start.
    if (this.sendStart < 0) {
      const at = Math.max(this.takenAt, this.conn?.connectedAt ?? -1);
      this.sendStart = at >= 0 ? at : clock.now();
    }
    return this.handler!.onConnect(abort);
  }

  onResponseStarted(): void {
    return this.handler!.onResponseStarted?.();
  }

  onBodySent(chunk: unknown): void {
    const h = this.handler!;
    if (h.onBodySent) return h.onBodySent(chunk);
  }

  onRequestSent(): void {
    this.endSend();
    const h = this.handler!;
    if (h.onRequestSent) return h.onRequestSent();
  }

  onHeaders(statusCode: number, headers: unknown, resume: () => void, statusText: string): boolean {
    this.responded(statusCode);
    return this.handler!.onHeaders!(statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.handler!.onData!(chunk);
  }

  onComplete(trailers: unknown): void {
    this.end();
    return this.handler!.onComplete!(trailers);
  }

  onUpgrade(statusCode: number, headers: unknown, socket: unknown): void {
    this.responded(statusCode);
    const result = this.handler!.onUpgrade!(statusCode, headers, socket);
    // Recorded after the caller's handler returned, as the `request:trailers` channel of an upgrade was.
    this.end();
    return result;
  }

  onError(err: Error): void {
    // A request still queued in a destroyed or closed pool never got a connection: not measured.
    if (this.takenAt >= 0) this.end();
    return this.handler!.onError(err);
  }

  /** Headers arrived: the status; a server may answer before the body was fully sent (e.g. 413): sending ends. */
  private responded(statusCode: number): void {
    this.statusCode = statusCode;
    // Usually sending has ended already (onRequestSent), and the clock is not read.
    if (this.sendStart >= 0 && this.sendEnd < 0) this.endSend();
  }

  private endSend(): void {
    if (this.sendStart < 0 || this.sendEnd >= 0) return;
    const now = clock.now();
    this.sendEnd = now;
    try {
      this.recorder?.sent(this.set, now - this.sendStart);
    } catch (err) {
      reportInternalError('send', err);
    }
  }

  /** Records the end of the request (once): whole duration, and the receive phase when it was fully sent. */
  end(): void {
    if (this.done) return;
    this.done = true;
    const now = clock.now();
    try {
      const conn = this.conn;
      if (conn !== undefined) {
        conn.idleSince = now;
        if (conn.current === this) conn.current = undefined;
      }
      this.recorder?.finished(this.set, this.statusCode, now - this.start, this.sendEnd >= 0 ? now - this.sendEnd : -1);
    } catch (err) {
      reportInternalError('finish', err);
    }
  }
}

/**
 * How a pool passes `handler` on: `wrap` (through a MeasuredRequest), `reject` (undici's own check,
 * `assertRequestHandler` in core/util.js, refuses it: the client gives undici the handler itself, the request fails
 * before it exists and counts as an error), `pass` (an `onRequestStart`-style handler, which an agent never hands
 * to a pool: passed on unmeasured).
 */
export function handlerFit(handler: unknown, options: Dispatcher.DispatchOptions): 'wrap' | 'reject' | 'pass' {
  if (handler === null || typeof handler !== 'object') return 'reject';
  const h = handler as Partial<LegacyHandler> & { onRequestStart?: unknown };
  if (typeof h.onRequestStart === 'function') return 'pass';
  if (typeof h.onConnect !== 'function' || typeof h.onError !== 'function') return 'reject';
  if (typeof h.onBodySent !== 'function' && h.onBodySent !== undefined) return 'reject';
  if (options.upgrade || options.method === 'CONNECT') return typeof h.onUpgrade === 'function' ? 'wrap' : 'reject';
  const full =
    typeof h.onHeaders === 'function' && typeof h.onData === 'function' && typeof h.onComplete === 'function';
  return full ? 'wrap' : 'reject';
}
