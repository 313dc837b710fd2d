import type { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { callHook, TuistInstrumentationBase, type PatchedModule } from '@tuist-telemetry/core/internal';
import { createRequire } from 'node:module';
import {
  enabled,
  patchProto,
  restorePoolClass,
  standInFor,
  swapPoolClass,
  unpatchProto,
  type Adopter,
  type Proto,
} from './patch.js';
import type { PgPool, TuistPgInstrumentationConfig } from './types.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** A node-postgres module: pg 8, or pg-pool 2/3 (pg 8's Pool); what differs is where the Pool class sits. */
function nodePostgres(
  name: string,
  majors: readonly [number, number],
  supported: string,
  protoOf: (exports: unknown) => Proto | undefined,
  swap: (exports: unknown) => unknown,
  restore: (exports: unknown) => void,
): PatchedModule<Proto> {
  return {
    name,
    majors,
    supported,
    lost: 'its pools are not instrumented',
    find: protoOf,
    unrecognised: (version) =>
      `${name}${version ? ` ${version}` : ''} does not look like node-postgres (no Pool.prototype.connect/query); not instrumented`,
    patch(exports, proto) {
      patchProto(proto);
      return swap(exports);
    },
    unpatch(exports, proto) {
      if (proto !== undefined) unpatchProto(proto);
      restore(exports);
    },
  };
}

/**
 * Every node-postgres pool (pg 8, pg-pool 2/3) used after `enable()`, by anyone (an ORM, a query builder, a job
 * library), records `tuist_repo_pool_*` and `tuist_repo_query_*` into the running telemetry, as `instrumentPgPool`
 * does. A pool is instrumented when it is constructed (so an idle pool has its gauges), or, for a pool made before
 * `enable()`, when it is first used (`connect` or `query`); one `instrumentPgPool` call on it sets its name and
 * telemetry and never makes it count twice.
 *
 * It puts a stand-in in place of the exported `Pool` class of `pg` and `pg-pool` (see `standInFor`) and patches
 * `Pool.prototype.connect` and `.query` of pg-pool (CJS `require` and ESM `import` with the loader hook), with plain
 * wrappers that never unwrap anyone else's: it runs next to `@opentelemetry/instrumentation-pg`, in either order.
 */
export class TuistPgInstrumentation extends TuistInstrumentationBase<TuistPgInstrumentationConfig> implements Adopter {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'pg';
  readonly shortName = TuistPgInstrumentation.shortName;

  constructor(config: TuistPgInstrumentationConfig = {}) {
    super('@tuist-telemetry/db', VERSION, config);
  }

  protected get registry(): typeof enabled {
    return enabled;
  }

  protected get lost(): string {
    return 'pools are not instrumented';
  }

  override setConfig(config: TuistPgInstrumentationConfig = {}): void {
    const given = config === null || typeof config !== 'object' ? {} : config;
    if (given.poolName !== undefined && typeof given.poolName !== 'function') {
      this._diag.warn(
        `poolName must be a function (pool) => string | undefined, got ${typeof given.poolName}; pools are not named`,
      );
      const { poolName: _ignored, ...rest } = given;
      super.setConfig(rest);
      return;
    }
    super.setConfig(given);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [this.moduleDefinition(PG), this.moduleDefinition(PG_POOL)];
  }

  /** The `repo` label of a pool this instance found. */
  nameOf(pool: object): string | undefined {
    const hook = this.getConfig().poolName;
    if (hook === undefined) return undefined;
    const name = callHook(
      'db:poolName',
      '@tuist-telemetry/db: the poolName option',
      () => hook(pool as unknown as PgPool),
      undefined,
    );
    return typeof name === 'string' && name !== '' ? name : undefined;
  }
}

function isProto(value: unknown): value is Proto {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Proto).connect === 'function' &&
    typeof (value as Proto).query === 'function'
  );
}

/** pg-pool's module: the Pool class itself (CJS), or under `default` (an ESM namespace). */
function poolProtoOfPgPool(exports: unknown): Proto | undefined {
  const Pool = typeof exports === 'function' ? exports : (exports as { default?: unknown } | undefined)?.default;
  const proto = typeof Pool === 'function' ? (Pool as { prototype: unknown }).prototype : undefined;
  return isProto(proto) ? proto : undefined;
}

/** pg's module: `Pool` is a subclass bound to pg's Client; the methods live on pg-pool's prototype, one level up. */
function poolProtoOfPg(exports: unknown): Proto | undefined {
  const mod = (exports as { Pool?: unknown; default?: { Pool?: unknown } } | undefined) ?? {};
  const Pool = mod.Pool ?? mod.default?.Pool;
  if (typeof Pool !== 'function') return undefined;
  let proto: unknown = (Pool as { prototype: unknown }).prototype;
  while (proto !== null && proto !== undefined && !Object.hasOwn(proto, 'connect'))
    proto = Object.getPrototypeOf(proto);
  return isProto(proto) ? proto : undefined;
}

/** pg (CJS exports or ESM namespace): `Pool`, and `default.Pool` of a namespace (`import pg from 'pg'`). */
function swapPg(exports: unknown): unknown {
  swapPoolClass(exports, 'Pool');
  const def = (exports as { default?: unknown } | undefined)?.default;
  if (def !== exports) swapPoolClass(def, 'Pool');
  return exports;
}

function restorePg(exports: unknown): void {
  restorePoolClass(exports, 'Pool');
  const def = (exports as { default?: unknown } | undefined)?.default;
  if (def !== exports) restorePoolClass(def, 'Pool');
}

/**
 * pg-pool: CJS exports are the class itself, replaced by returning the stand-in (require-in-the-middle keeps it
 * for every later `require`; it stays after `disable()`, constructing plainly); an ESM namespace has it as `default`.
 */
function swapPgPool(exports: unknown): unknown {
  if (typeof exports === 'function') return standInFor(exports as new () => object);
  swapPoolClass(exports, 'default');
  return exports;
}

function restorePgPool(exports: unknown): void {
  if (typeof exports !== 'function') restorePoolClass(exports, 'default');
}

const PG = nodePostgres('pg', [8, 8], 'pg 8.x are', poolProtoOfPg, swapPg, restorePg);
const PG_POOL = nodePostgres('pg-pool', [2, 3], 'pg-pool 2-3.x are', poolProtoOfPgPool, swapPgPool, restorePgPool);
