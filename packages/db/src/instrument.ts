import { getTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { PoolGauges } from './gauges.js';
import type { Callback, InternalClient, InternalPool, Submittable } from './internal-types.js';
import { PoolRecorder, type QueryResult } from './recorder.js';
import type { InstrumentPgPoolOptions, PgPool } from './types.js';
import { callbackSource, elapsedMs, isSubmittable, isThenable, userCallback, withCallback } from './utils.js';

/** Marks an instrumented pool; `Symbol.for` so that two copies of this package still instrument a pool once. */
const INSTRUMENTED = Symbol.for('@tuist-telemetry/db.instrumentPgPool');

interface PoolMark {
  name: string | undefined;
  telemetry: Telemetry;
}

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

/**
 * Instruments a node-postgres pool: `tuist_repo_pool_*` (queue length, ready connections and size read at
 * collection time; connections opened and closed) and the timing of every query made through it (`pool.query`
 * and `query` on a checked-out client). Returns the same pool. Calling it again on the same pool does nothing.
 * Throws when the arguments are wrong or no telemetry is running; never throws afterwards.
 */
export function instrumentPgPool<P extends PgPool>(pool: P, options: InstrumentPgPoolOptions = {}): P {
  const target = pool as unknown as InternalPool & { [INSTRUMENTED]?: PoolMark };
  if (typeof target !== 'object' || target === null || typeof target.connect !== 'function' || typeof target.query !== 'function' || typeof target.on !== 'function') {
    throw new TypeError('@tuist-telemetry/db: instrumentPgPool(pool) takes a node-postgres Pool (new pg.Pool(...))');
  }
  const { name: rawName, telemetry: given } = options;
  if (rawName !== undefined && typeof rawName !== 'string') {
    throw new TypeError(`@tuist-telemetry/db: the \`name\` option must be a string (the pool's repo label), got ${typeof rawName}`);
  }
  const name = rawName === '' ? undefined : rawName;

  const mark = target[INSTRUMENTED];
  if (mark) {
    if (mark.name !== name || (given !== undefined && given !== mark.telemetry)) {
      mark.telemetry.warnings.warn(
        'db:instrumented-twice',
        `@tuist-telemetry/db: this pool is instrumented already (name ${JSON.stringify(mark.name ?? '')}); the second call was ignored`,
      );
    }
    return pool;
  }

  const telemetry = given ?? getTelemetry();
  if (!telemetry) {
    throw new Error('@tuist-telemetry/db: no telemetry is running; call startTelemetry() before instrumentPgPool(), or pass { telemetry }');
  }
  Object.defineProperty(target, INSTRUMENTED, { value: { name, telemetry } satisfies PoolMark, configurable: true });

  const recorder = new PoolRecorder(telemetry, name);
  const sharing = PoolGauges.of(telemetry).add(name ?? '', target);
  if (sharing > 0) {
    telemetry.warnings.warn(
      `db:shared-name:${name ?? ''}`,
      name === undefined
        ? '@tuist-telemetry/db: several pools are instrumented without a name; their series are added together. Pass { name } to tell them apart'
        : `@tuist-telemetry/db: several pools are named ${JSON.stringify(name)}; their series are added together`,
    );
  }

  target.on('connect', () => recorder.connectionOpened());
  // pg-pool emits `remove` once a client is gone for any reason: idle timeout, release with an error, or the
  // server ending the connection (pg_terminate_backend, restart).
  target.on('remove', () => recorder.connectionClosed());
  wrapPoolQuery(target);
  wrapPoolConnect(target, recorder, telemetry);
  return pool;
}

/** `pool.query` checks a client out through `this.connect`: flag that checkout as a query's. */
function wrapPoolQuery(pool: InternalPool): void {
  const original = pool.query;
  replaceMethod(pool, 'query', function query(this: unknown, ...args: unknown[]): unknown {
    const previous = inPoolQuery;
    inPoolQuery = true;
    try {
      return original.apply(this, args);
    } finally {
      inPoolQuery = previous;
    }
  });
}

function wrapPoolConnect(pool: InternalPool, recorder: PoolRecorder, telemetry: Telemetry): void {
  const original = pool.connect;

  replaceMethod(pool, 'connect', function connect(this: unknown, ...args: unknown[]): unknown {
    const forQuery = inPoolQuery;
    inPoolQuery = false;
    const callback = args[0];
    // An ending pool refuses at once; a non-function callback is node-postgres's to reject.
    if (pool.ending === true || (callback && typeof callback !== 'function')) return original.apply(this, args);

    const start = performance.now();
    const checkedOut = (client: unknown): void => {
      if (typeof client !== 'object' || client === null) return;
      wrapClient(client as InternalClient, recorder, telemetry);
      (client as Pending)[QUEUE_MS] = elapsedMs(start);
    };

    if (typeof callback === 'function') {
      const user = callback as Callback;
      const wrapped = function (this: unknown, err: unknown, client: unknown): unknown {
        try {
          if (err) {
            // pool.query failed before reaching a connection (refused, timed out): still a failed query.
            if (forQuery) recorder.query('error', elapsedMs(start), undefined);
          } else checkedOut(client);
        } catch (e) {
          reportRecordError(telemetry, e);
        }
        // Pass on exactly what pg-pool gave (err, client, release).
        return user.apply(this, arguments as unknown as unknown[]);
      };
      return original.apply(this, [wrapped, ...args.slice(1)]);
    }

    const result = original.apply(this, args);
    if (!isThenable(result)) return result;
    // Rejections pass through untouched (same error, still unhandled if the caller ignores them).
    return result.then((client) => {
      try {
        checkedOut(client);
      } catch (e) {
        reportRecordError(telemetry, e);
      }
      return client;
    });
  });
}

function wrapClient(client: InternalClient, recorder: PoolRecorder, telemetry: Telemetry): void {
  if (wrappedClients.has(client)) return;
  wrappedClients.add(client);
  const original = client.query;
  if (typeof original !== 'function') return;

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
        recorder.query(result, queueMs, elapsedMs(start));
      } catch (err) {
        telemetry.warnings.error('db:record', '@tuist-telemetry/db: recording a query failed', err);
      }
    };
    const call = (callArgs: unknown[]): unknown => {
      try {
        return original.apply(this, callArgs);
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
    replaceMethod(query as { handleError: Callback }, 'handleError', function handleError(this: unknown, ...args: unknown[]): unknown {
      finish('error');
      return onError.apply(this, args);
    });
  }
  const onReady = query.handleReadyForQuery;
  if (typeof onReady === 'function') {
    replaceMethod(query as { handleReadyForQuery: Callback }, 'handleReadyForQuery', function handleReadyForQuery(this: unknown, ...args: unknown[]): unknown {
      try {
        return onReady.apply(this, args);
      } finally {
        // After the original: pg's Query turns a cancelled query into handleError from in here.
        finish('ok');
      }
    });
  }
}

function reportRecordError(telemetry: Telemetry, err: unknown): void {
  telemetry.warnings.error('db:record', '@tuist-telemetry/db: recording a checkout failed', err);
}
