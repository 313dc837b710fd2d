import { activeTelemetry, type Telemetry } from '@tuist-telemetry/core/internal';
import { bindingOf, instrumentPool, type MarkedPool } from './pool.js';
import type { PoolBinding } from './recorder.js';
import type { InstrumentPgPoolOptions, PgPool } from './types.js';

/**
 * Instruments a node-postgres pool: `tuist_repo_pool_*` (queue length, ready connections and size read at
 * collection time; connections opened and closed) and the timing of every query made through it (`pool.query`
 * and `query` on a checked-out client). Returns the same pool. Calling it again on the same pool does nothing
 * (on a pool `TuistPgInstrumentation` instrumented, it sets the name and telemetry; nothing is counted twice).
 * Throws when the arguments are wrong or no telemetry is running; never throws afterwards.
 */
export function instrumentPgPool<P extends PgPool>(pool: P, options: InstrumentPgPoolOptions = {}): P {
  const target = pool as unknown as MarkedPool;
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof target.connect !== 'function' ||
    typeof target.query !== 'function' ||
    typeof target.on !== 'function'
  ) {
    throw new TypeError('@tuist-telemetry/db: instrumentPgPool(pool) takes a node-postgres Pool (new pg.Pool(...))');
  }
  const { name: rawName, telemetry: given } = options;
  if (rawName !== undefined && typeof rawName !== 'string') {
    throw new TypeError(
      `@tuist-telemetry/db: the \`name\` option must be a string (the pool's repo label), got ${typeof rawName}`,
    );
  }
  const name = rawName === '' ? undefined : rawName;
  const telemetry = activeTelemetry(given);
  if (!telemetry) {
    throw new Error(
      '@tuist-telemetry/db: no telemetry is running; call startTelemetry() before instrumentPgPool(), or pass { telemetry }',
    );
  }

  const existing = bindingOf(target);
  if (existing) {
    if (existing.foundBy !== undefined) {
      // Found by TuistPgInstrumentation first: the explicit call decides the name and telemetry.
      existing.foundBy = undefined;
      existing.name = name;
      existing.telemetry = given;
      existing.cache = undefined;
    } else if (existing.name !== name || (given !== undefined && given !== existing.telemetry)) {
      telemetry.warnings.warn(
        'db:instrumented-twice',
        `@tuist-telemetry/db: this pool is instrumented already (name ${JSON.stringify(existing.name ?? '')}); the second call was ignored`,
      );
    }
    return pool;
  }

  const binding: PoolBinding = { name, telemetry: given, foundBy: undefined, cache: undefined };
  warnShared(instrumentPool(target, binding), name, telemetry);
  return pool;
}

/** Warns when pools are added together because they share a name (or have none). */
export function warnShared(sharing: number, name: string | undefined, telemetry: Telemetry): void {
  if (sharing === 0) return;
  telemetry.warnings.warn(
    `db:shared-name:${name ?? ''}`,
    name === undefined
      ? '@tuist-telemetry/db: several pools are instrumented without a name; their series are added together. Pass { name } to tell them apart'
      : `@tuist-telemetry/db: several pools are named ${JSON.stringify(name)}; their series are added together`,
  );
}
