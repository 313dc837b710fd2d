import { reportFailure } from '@tuist-telemetry/core/internal';
import { registerPool } from './gauges.js';
import type { Callback, InternalClient, InternalPool, Submittable } from './internal-types.js';
import { callbackSource, elapsedMs, isSubmittable, isThenable, userCallback, withCallback } from './query-args.js';
import { recorderFor, type PoolBinding, type QueryResult } from './recorder.js';

/** Marks an instrumented pool; `Symbol.for` so that two copies of this package still instrument a pool once. */
export const INSTRUMENTED = Symbol.for('@tuist-telemetry/db.instrumentPgPool');

export type MarkedPool = InternalPool & { [INSTRUMENTED]?: PoolBinding };

/** Clients whose `query` is wrapped (once per client, across checkouts). */
const wrappedClients = new WeakSet<object>();
/**
 * The connection wait of a checkout, taken by the first query made on it. Kept on the client under a private
 * symbol: a plain property store and load per query instead of a WeakMap set and delete (measurably cheaper).
 */
const QUEUE_MS = Symbol('@tuist-telemetry/db.queueMs');
type Pending = { [QUEUE_MS]?: number | undefined };
/** Query objects (pg `Query`, pg-cursor, ...) already watched. */
const watchedSubmittables = new WeakSet<object>();
/** True while `pool.query` runs synchronously: the `connect` it makes belongs to a query. */
let inPoolQuery = false;

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
 * The method an instance wrapper delegates to: an own method the object had before (kept as it was), else the one
 * its prototype has at the time of the call, so a patch another instrumentation (e.g. instrumentation-pg) puts on
 * the prototype later still runs.
 */
function delegate(target: object, key: string): () => Callback {
  const own = Object.getOwnPropertyDescriptor(target, key)?.value as Callback | undefined;
  if (typeof own === 'function') return () => own;
  const proto = Object.getPrototypeOf(target) as Record<string, Callback>;
  return () => proto[key]!;
}

/** `pool.query` checks a client out through `this.connect`: flag that checkout as a query's. */
function wrapPoolQuery(pool: InternalPool): void {
  const original = delegate(pool, 'query');
  replaceMethod(pool, 'query', function query(this: unknown, ...args: unknown[]): unknown {
    const previous = inPoolQuery;
    inPoolQuery = true;
    try {
      return original().apply(this, args);
    } finally {
      inPoolQuery = previous;
    }
  });
}

function wrapPoolConnect(pool: InternalPool, binding: PoolBinding): void {
  const original = delegate(pool, 'connect');

  replaceMethod(pool, 'connect', function connect(this: unknown, ...args: unknown[]): unknown {
    const forQuery = inPoolQuery;
    inPoolQuery = false;
    const callback = args[0];
    const method = original();
    // An ending pool refuses at once; a non-function callback is node-postgres's to reject.
    if (pool.ending === true || (callback && typeof callback !== 'function')) return method.apply(this, args);

    const start = performance.now();
    const checkedOut = (client: unknown): void => {
      if (typeof client !== 'object' || client === null) return;
      wrapClient(client as InternalClient, binding);
      (client as Pending)[QUEUE_MS] = elapsedMs(start);
    };

    if (typeof callback === 'function') {
      const user = callback as Callback;
      const wrapped = function (this: unknown, err: unknown, client: unknown): unknown {
        try {
          if (err) {
            // pool.query failed before reaching a connection (refused, timed out): still a failed query.
            if (forQuery) recorderFor(binding)?.query('error', elapsedMs(start), undefined);
          } else checkedOut(client);
        } catch (e) {
          reportRecordError(e);
        }
        // Pass on exactly what pg-pool gave (err, client, release).
        return user.apply(this, arguments as unknown as unknown[]);
      };
      return method.apply(this, [wrapped, ...args.slice(1)]);
    }

    const result = method.apply(this, args);
    if (!isThenable(result)) return result;
    // Rejections pass through untouched (same error, still unhandled if the caller ignores them).
    return result.then((client) => {
      try {
        checkedOut(client);
      } catch (e) {
        reportRecordError(e);
      }
      return client;
    });
  });
}

function wrapClient(client: InternalClient, binding: PoolBinding): void {
  if (wrappedClients.has(client)) return;
  wrappedClients.add(client);
  if (typeof client.query !== 'function') return;
  const original = delegate(client, 'query');

  replaceMethod(client, 'query', function query(this: unknown, ...args: unknown[]): unknown {
    const pending = client as Pending;
    const queueMs = pending[QUEUE_MS];
    if (queueMs !== undefined) pending[QUEUE_MS] = undefined;
    const start = performance.now();
    let recorded = false;
    const finish = (result: QueryResult): void => {
      if (recorded) return;
      recorded = true;
      try {
        recorderFor(binding)?.query(result, queueMs, elapsedMs(start));
      } catch (err) {
        reportFailure('db:record', '@tuist-telemetry/db: recording a query failed', err, binding.telemetry);
      }
    };
    const method = original();
    const call = (callArgs: unknown[]): unknown => {
      try {
        return method.apply(this, callArgs);
      } catch (err) {
        finish('error');
        throw err;
      }
    };

    const config = args[0];
    if (isSubmittable(config)) {
      watchSubmittable(config, finish);
      return call(args);
    }
    const source = callbackSource(config, args[1], args[2]);
    if (source === 'invalid') return call(args);
    if (source === 'none') {
      const result = call(args);
      if (!isThenable(result)) return result;
      return result.then(
        (value) => {
          finish('ok');
          return value;
        },
        (err: unknown) => {
          finish('error');
          throw err;
        },
      );
    }
    const user = userCallback(source, args);
    const wrapped = function (this: unknown, err: unknown): unknown {
      finish(err ? 'error' : 'ok');
      return user.apply(this, arguments as unknown as unknown[]);
    };
    return call(withCallback(source, args, wrapped));
  });
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

function reportRecordError(err: unknown): void {
  reportFailure('db:record', '@tuist-telemetry/db: recording a checkout failed', err);
}
