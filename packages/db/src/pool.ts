import { reportFailure } from '@tuist-telemetry/core/internal';
import { registerPool } from './gauges.js';
import type { Callback, InternalClient, InternalPool, Submittable } from './internal-types.js';
import { callbackSource, isSubmittable, isThenable, withCallback } from './query-args.js';
import { recorderFor, type PoolBinding, type QueryResult } from './recorder.js';

/**
 * The clock of the query timings: `globalThis.performance` is an accessor property on Node, so `clock.now()`
 * calls a getter before every read; this module binding reads the same object once.
 */
const clock: typeof performance = performance;

/** Marks an instrumented pool; `Symbol.for` so that two copies of this package still instrument a pool once. */
export const INSTRUMENTED = Symbol.for('@tuist-telemetry/db.instrumentPgPool');

export type MarkedPool = InternalPool & { [INSTRUMENTED]?: PoolBinding };

/**
 * What the instrumentation keeps on a client it wrapped (once per client, across checkouts), under a private symbol:
 * a property load per query instead of a WeakSet or WeakMap lookup. `queueMs` is the connection wait of the current
 * checkout, taken by the first query made on it.
 */
const CLIENT = Symbol('@tuist-telemetry/db.client');
interface ClientState {
  queueMs: number | undefined;
}
type MarkedClient = InternalClient & { [CLIENT]?: ClientState };
/** Query objects (pg `Query`, pg-cursor, ...) already watched. */
const watchedSubmittables = new WeakSet<object>();
/** True while `pool.query` runs synchronously: the `connect` it makes belongs to a query. */
let inPoolQuery = false;
/**
 * The client whose checkout callback is running, and the `performance.now()` of its checkout: the first query that
 * callback makes (what `pool.query` does) starts at that moment, so the clock is read once for both.
 */
let checkingOut: object | undefined;
let checkedOutAt = 0;

/**
 * On TuistPgInstrumentation's wrappers of `Pool.prototype.connect`/`.query` (patch.ts): the method they pass a
 * bound pool's calls to. Those wrappers only adopt pools that have no binding yet, and every pool with instance
 * wrappers has one, so an instance wrapper that finds such a wrapper next calls past it (one frame less per call).
 */
export const PASS_THROUGH = Symbol.for('@tuist-telemetry/db.passThrough');
type PassThrough = Callback & { [PASS_THROUGH]?: () => Callback };

/** The prototype's method at the time of the call, past TuistPgInstrumentation's wrapper when that is on top. */
function inherited(method: Callback): Callback {
  const through = (method as PassThrough)[PASS_THROUGH];
  return through === undefined ? method : through();
}

/** The binding of an instrumented pool, or `undefined`. */
export function bindingOf(pool: object): PoolBinding | undefined {
  return (pool as MarkedPool)[INSTRUMENTED];
}

/**
 * Instruments one pool (the caller checked it is not instrumented yet): connection counters from the pool's
 * events, query timings from wrappers on the pool and its checked-out clients, gauges read at collection time.
 * Returns how many live pools already record under the same name.
 */
export function instrumentPool(pool: MarkedPool, binding: PoolBinding): number {
  Object.defineProperty(pool, INSTRUMENTED, { value: binding, configurable: true });
  const sharing = registerPool(pool, binding);
  recorderFor(binding);
  pool.on('connect', () => recorderFor(binding)?.connectionOpened());
  // pg-pool emits `remove` once a client is gone for any reason: idle timeout, release with an error, or the
  // server ending the connection (pg_terminate_backend, restart).
  pool.on('remove', () => recorderFor(binding)?.connectionClosed());
  wrapPoolQuery(pool);
  wrapPoolConnect(pool, binding);
  return sharing;
}

/**
 * An instance wrapper delegates to the own method the object had before (kept as it was), else to the one its
 * prototype has at the time of the call, so a patch another instrumentation (e.g. instrumentation-pg) puts on the
 * prototype later still runs. The wrappers forward `arguments` as they are (no rest array per call).
 */
function ownMethod(target: object, key: string): Callback | undefined {
  const own = Object.getOwnPropertyDescriptor(target, key)?.value as Callback | undefined;
  return typeof own === 'function' ? own : undefined;
}

/** `pool.query` checks a client out through `this.connect`: flag that checkout as a query's. */
function wrapPoolQuery(pool: InternalPool): void {
  const own = ownMethod(pool, 'query');
  const proto = Object.getPrototypeOf(pool) as InternalPool;
  replaceMethod(pool, 'query', function query(this: unknown): unknown {
    const method = own ?? inherited(proto.query);
    const previous = inPoolQuery;
    inPoolQuery = true;
    try {
      return method.apply(this, arguments as unknown as unknown[]);
    } finally {
      inPoolQuery = previous;
    }
  });
}

function wrapPoolConnect(pool: InternalPool, binding: PoolBinding): void {
  const own = ownMethod(pool, 'connect');
  const proto = Object.getPrototypeOf(pool) as InternalPool;

  replaceMethod(pool, 'connect', function connect(this: unknown, callback?: unknown): unknown {
    const forQuery = inPoolQuery;
    inPoolQuery = false;
    const method = own ?? inherited(proto.connect);
    // An ending pool refuses at once; a non-function callback is node-postgres's to reject.
    if (pool.ending === true || (callback && typeof callback !== 'function')) {
      return method.apply(this, arguments as unknown as unknown[]);
    }
    const start = clock.now();

    if (typeof callback === 'function') {
      const user = callback as Callback;
      const wrapped = function (this: unknown, err: unknown, client: unknown): unknown {
        if (err || typeof client !== 'object' || client === null) {
          // pool.query failed before reaching a connection (refused, timed out): still a failed query.
          if (err && forQuery) recordQuery(binding, 'error', clock.now() - start, undefined);
          // Pass on exactly what pg-pool gave (err, client, release).
          return user.apply(this, arguments as unknown as unknown[]);
        }
        const now = clock.now();
        checkedOut(client as MarkedClient, binding, now - start);
        const outer = checkingOut;
        const outerAt = checkedOutAt;
        checkingOut = client;
        checkedOutAt = now;
        try {
          return user.apply(this, arguments as unknown as unknown[]);
        } finally {
          checkingOut = outer;
          checkedOutAt = outerAt;
        }
      };
      // pg-pool's connect takes the callback alone; anything after it is passed on as given.
      if (arguments.length === 1) return method.call(this, wrapped);
      const args = Array.prototype.slice.call(arguments) as unknown[];
      args[0] = wrapped;
      return method.apply(this, args);
    }

    const result = method.apply(this, arguments as unknown as unknown[]);
    if (!isThenable(result)) return result;
    // Rejections pass through untouched (same error, still unhandled if the caller ignores them).
    return result.then((client) => {
      if (typeof client === 'object' && client !== null) {
        checkedOut(client as MarkedClient, binding, clock.now() - start);
      }
      return client;
    });
  });
}

/** A client was handed out after `queueMs`: its first query takes that wait. Never throws. */
function checkedOut(client: MarkedClient, binding: PoolBinding, queueMs: number): void {
  try {
    let state = client[CLIENT];
    if (state === undefined) state = wrapClient(client, binding);
    state.queueMs = queueMs;
  } catch (err) {
    reportFailure('db:record', '@tuist-telemetry/db: recording a checkout failed', err);
  }
}

/** Records one finished query (`queryMs` undefined: it never reached a connection). Never throws. */
function recordQuery(
  binding: PoolBinding,
  result: QueryResult,
  queueMs: number | undefined,
  queryMs: number | undefined,
): void {
  try {
    recorderFor(binding)?.query(result, queueMs, queryMs);
  } catch (err) {
    reportFailure('db:record', '@tuist-telemetry/db: recording a query failed', err, binding.telemetry);
  }
}

function wrapClient(client: MarkedClient, binding: PoolBinding): ClientState {
  const state: ClientState = { queueMs: undefined };
  Object.defineProperty(client, CLIENT, { value: state, configurable: true, writable: false, enumerable: false });
  if (typeof client.query !== 'function') return state;
  const own = ownMethod(client, 'query');
  const proto = Object.getPrototypeOf(client) as InternalClient;

  replaceMethod(
    client,
    'query',
    function query(this: unknown, config?: unknown, values?: unknown, callback?: unknown): unknown {
      const method = own ?? proto.query;
      const queueMs = state.queueMs;
      if (queueMs !== undefined) state.queueMs = undefined;
      let start: number;
      if (checkingOut === client) {
        start = checkedOutAt;
        checkingOut = undefined;
      } else start = clock.now();

      if (isSubmittable(config)) {
        let recorded = false;
        const finish = (result: QueryResult): void => {
          if (recorded) return;
          recorded = true;
          recordQuery(binding, result, queueMs, clock.now() - start);
        };
        watchSubmittable(config, finish);
        try {
          return method.apply(this, arguments as unknown as unknown[]);
        } catch (err) {
          finish('error');
          throw err;
        }
      }
      const source = callbackSource(config, values, callback);
      if (source === 'invalid') return method.apply(this, arguments as unknown as unknown[]);
      if (source === 'none') {
        let result: unknown;
        try {
          result = method.apply(this, arguments as unknown as unknown[]);
        } catch (err) {
          recordQuery(binding, 'error', queueMs, clock.now() - start);
          throw err;
        }
        if (!isThenable(result)) return result;
        return result.then(
          (value) => {
            recordQuery(binding, 'ok', queueMs, clock.now() - start);
            return value;
          },
          (err: unknown) => {
            recordQuery(binding, 'error', queueMs, clock.now() - start);
            throw err;
          },
        );
      }
      const user = (
        source === 'callback' ? callback : source === 'values' ? values : (config as { callback: unknown }).callback
      ) as Callback;
      let recorded = false;
      const wrapped = function (this: unknown, err: unknown): unknown {
        if (!recorded) {
          recorded = true;
          recordQuery(binding, err ? 'error' : 'ok', queueMs, clock.now() - start);
        }
        return user.apply(this, arguments as unknown as unknown[]);
      };
      try {
        // The callback in node-postgres's order of precedence; the caller's values and config pass through untouched.
        if (source === 'values' && arguments.length === 2) return method.call(this, config, wrapped);
        if (source !== 'values' && arguments.length <= 3) return method.call(this, config, values, wrapped);
        const args = Array.prototype.slice.call(arguments) as unknown[];
        return method.apply(this, withCallback(source, args, wrapped));
      } catch (err) {
        if (!recorded) {
          recorded = true;
          recordQuery(binding, 'error', queueMs, clock.now() - start);
        }
        throw err;
      }
    },
  );
  return state;
}

/**
 * Puts `wrapped` on the object itself, shadowing the class's method (an own property, not enumerable, so the
 * object prints as before; defined rather than assigned, so a read-only method on the class does not stop it).
 */
function replaceMethod<K extends string>(target: { [key in K]: Callback }, key: K, wrapped: Callback): void {
  Object.defineProperty(target, key, { value: wrapped, writable: true, configurable: true, enumerable: false });
}

/**
 * A query object reports its own end to the client: `handleError` on failure, `handleReadyForQuery` when the
 * server is done with it (for a cursor: once it is closed). The first of the two decides the result.
 */
function watchSubmittable(query: Submittable, finish: (result: QueryResult) => void): void {
  if (watchedSubmittables.has(query)) return;
  watchedSubmittables.add(query);
  const onError = query.handleError;
  if (typeof onError === 'function') {
    replaceMethod(
      query as { handleError: Callback },
      'handleError',
      function handleError(this: unknown, ...args: unknown[]): unknown {
        finish('error');
        return onError.apply(this, args);
      },
    );
  }
  const onReady = query.handleReadyForQuery;
  if (typeof onReady === 'function') {
    replaceMethod(
      query as { handleReadyForQuery: Callback },
      'handleReadyForQuery',
      function handleReadyForQuery(this: unknown, ...args: unknown[]): unknown {
        try {
          return onReady.apply(this, args);
        } finally {
          // After the original: pg's Query turns a cancelled query into handleError from in here.
          finish('ok');
        }
      },
    );
  }
}
