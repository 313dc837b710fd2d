import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { activeTelemetry, callHook } from '@tuist-telemetry/core/internal';
import { createRequire } from 'node:module';
import type { Callback } from './internal-types.js';
import { warnShared } from './instrument.js';
import { bindingOf, instrumentPool, type MarkedPool } from './pool.js';
import { enabledInstrumentations as active } from './state.js';
import type { PgPool, TuistPgInstrumentationConfig } from './types.js';
import { supportedMajor } from './utils.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** pg 8 (whose Pool is pg-pool 2 or 3's). */
const PG_MAJORS = [8, 8] as const;
const POOL_MAJORS = [2, 3] as const;

/** What a patched `Pool.prototype` keeps: the methods it had and the wrappers put in their place. */
interface ProtoPatch {
  readonly originals: { connect: Callback; query: Callback };
  readonly wrappers: { connect: Callback; query: Callback };
}

/** On pg-pool's `Pool.prototype`; `Symbol.for` so that two copies of this package patch it once. */
const PATCH = Symbol.for('@tuist-telemetry/db.TuistPgInstrumentation');
type Proto = Record<'connect' | 'query', Callback> & { [PATCH]?: ProtoPatch };

/**
 * Every node-postgres pool (pg 8, pg-pool 2/3) used after `enable()`, by anyone (an ORM, a query builder, a job
 * library), records `tuist_repo_pool_*` and `tuist_repo_query_*` into the running telemetry, as `instrumentPgPool`
 * does. A pool is instrumented when it is first used (`connect` or `query`); one `instrumentPgPool` call on it
 * sets its name and telemetry and never makes it count twice.
 *
 * It patches `Pool.prototype.connect` and `.query` of pg-pool (reached through `pg` and `pg-pool`, CJS `require`
 * and ESM `import` with the loader hook), with plain wrappers that never unwrap anyone else's: it runs next to
 * `@opentelemetry/instrumentation-pg`, in either order.
 */
export class TuistPgInstrumentation extends InstrumentationBase<TuistPgInstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'pg';
  readonly shortName = TuistPgInstrumentation.shortName;
  declare private warnedVersion: boolean | undefined;

  constructor(config: TuistPgInstrumentationConfig = {}) {
    super('@tuist-telemetry/db', VERSION, config);
  }

  override setConfig(config: TuistPgInstrumentationConfig = {}): void {
    const given = config === null || typeof config !== 'object' ? {} : config;
    if (given.poolName !== undefined && typeof given.poolName !== 'function') {
      this._diag.warn(`poolName must be a function (pool) => string | undefined, got ${typeof given.poolName}; pools are not named`);
      const { poolName: _ignored, ...rest } = given;
      super.setConfig(rest);
      return;
    }
    super.setConfig(given);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'pg',
        ['*'],
        (exports: unknown, version?: string) => this.patchModule(exports, version, 'pg', PG_MAJORS, poolProtoOfPg),
        (exports: unknown) => this.unpatchModule(exports, poolProtoOfPg),
      ),
      new InstrumentationNodeModuleDefinition(
        'pg-pool',
        ['*'],
        (exports: unknown, version?: string) => this.patchModule(exports, version, 'pg-pool', POOL_MAJORS, poolProtoOfPgPool),
        (exports: unknown) => this.unpatchModule(exports, poolProtoOfPgPool),
      ),
    ];
  }

  override enable(): void {
    try {
      if (!active.includes(this)) active.push(this);
      super.enable();
    } catch (err) {
      this._diag.error('enable failed; pools are not instrumented', err);
    }
  }

  override disable(): void {
    try {
      const i = active.indexOf(this);
      if (i >= 0) active.splice(i, 1);
      super.disable();
    } catch (err) {
      this._diag.error('disable failed', err);
    }
  }

  private patchModule(exports: unknown, version: string | undefined, name: string, [min, max]: readonly [number, number], protoOf: (e: unknown) => Proto | undefined): unknown {
    try {
      if (!supportedMajor(version, min, max)) {
        this.warnVersion(`${name} ${String(version)} is not supported (${name} ${min === max ? min : `${min}-${max}`}.x are); its pools are not instrumented`);
        return exports;
      }
      const proto = protoOf(exports);
      if (proto === undefined) {
        this.warnVersion(`${name}${version ? ` ${version}` : ''} does not look like node-postgres (no Pool.prototype.connect/query); not instrumented`);
        return exports;
      }
      patchProto(proto);
    } catch (err) {
      this._diag.error(`patching ${name} failed; its pools are not instrumented`, err);
    }
    return exports;
  }

  private unpatchModule(exports: unknown, protoOf: (e: unknown) => Proto | undefined): void {
    try {
      if (active.length > 0) return; // another instance still wants the patch
      const proto = protoOf(exports);
      if (proto !== undefined) unpatchProto(proto);
    } catch (err) {
      this._diag.error('unpatching failed', err);
    }
  }

  private warnVersion(message: string): void {
    if (this.warnedVersion) return;
    this.warnedVersion = true;
    this._diag.warn(message);
  }

  /** The `repo` label of a pool this instance found. */
  nameOf(pool: object): string | undefined {
    const hook = this.getConfig().poolName;
    if (hook === undefined) return undefined;
    const name = callHook('db:poolName', '@tuist-telemetry/db: the poolName option', () => hook(pool as unknown as PgPool), undefined);
    return typeof name === 'string' && name !== '' ? name : undefined;
  }
}

function isProto(value: unknown): value is Proto {
  return typeof value === 'object' && value !== null && typeof (value as Proto).connect === 'function' && typeof (value as Proto).query === 'function';
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
  while (proto !== null && proto !== undefined && !Object.prototype.hasOwnProperty.call(proto, 'connect')) proto = Object.getPrototypeOf(proto);
  return isProto(proto) ? proto : undefined;
}

/** Instruments a pool the first time it is used while an instrumentation is enabled. */
function adopt(pool: MarkedPool): void {
  const owner = active[0];
  if (owner === undefined || bindingOf(pool) !== undefined || typeof pool.on !== 'function') return;
  const name = owner.nameOf(pool);
  const sharing = instrumentPool(pool, { name, telemetry: undefined, auto: true, cache: undefined });
  const t = activeTelemetry();
  if (t !== undefined) warnShared(sharing, name, t);
}

function patchProto(proto: Proto): void {
  if (proto[PATCH] !== undefined) {
    // Patched before (and maybe unpatched by disable while someone else's wrapper sat on top): put ours back if gone.
    const p = proto[PATCH];
    for (const key of ['connect', 'query'] as const) if (proto[key] === p.originals[key]) proto[key] = p.wrappers[key];
    return;
  }
  const originals = { connect: proto.connect, query: proto.query };
  const wrap = (key: 'connect' | 'query'): Callback =>
    function (this: unknown, ...args: unknown[]): unknown {
      const pool = this as MarkedPool;
      if (active.length > 0 && typeof pool === 'object' && pool !== null && bindingOf(pool) === undefined) {
        try {
          adopt(pool);
        } catch {
          // never into the host: the call goes on uninstrumented
        }
        // The pool's own wrapper now times this call; it comes back here (marked) for the original.
        const own = Object.getOwnPropertyDescriptor(pool, key)?.value as Callback | undefined;
        if (typeof own === 'function' && own !== wrappers[key]) return own.apply(pool, args);
      }
      return originals[key].apply(this, args);
    };
  const wrappers = { connect: wrap('connect'), query: wrap('query') };
  Object.defineProperty(proto, PATCH, { value: { originals, wrappers } satisfies ProtoPatch, configurable: true });
  proto.connect = wrappers.connect;
  proto.query = wrappers.query;
}

/**
 * Restores the prototype's methods when ours are still on top; when another instrumentation wrapped them since,
 * ours stay in place under theirs (unwrapping would remove theirs) and pass calls straight through while disabled.
 */
function unpatchProto(proto: Proto): void {
  const p = proto[PATCH];
  if (p === undefined) return;
  for (const key of ['connect', 'query'] as const) if (proto[key] === p.wrappers[key]) proto[key] = p.originals[key];
}
