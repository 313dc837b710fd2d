import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { callHook } from '@tuist-telemetry/core/internal';
import { createRequire } from 'node:module';
import { patchProto, restorePoolClass, standInFor, swapPoolClass, unpatchProto, type Proto } from './patch.js';
import { enabledInstrumentations as active } from './state.js';
import type { PgPool, TuistPgInstrumentationConfig } from './types.js';
import { supportedMajor } from './utils.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** pg 8 (whose Pool is pg-pool 2 or 3's). */
const PG_MAJORS = [8, 8] as const;
const POOL_MAJORS = [2, 3] as const;

/** A loaded `pg` or `pg-pool` module an instance patched: what enabling and disabling acts on. */
interface Loaded {
  readonly exports: unknown;
  readonly proto: Proto;
  readonly swap: (e: unknown) => unknown;
  readonly restore: (e: unknown) => void;
}
/**
 * Every module an instance patched. An instance enabled after `pg` was loaded never sees it (require-in-the-middle
 * calls a module's hooks once, on its first load after the hooks exist, and hands later `require`s the cached
 * exports without asking a new hook), so enabling any instance patches these again, and the last one disabled
 * restores them.
 */
const loaded: Loaded[] = [];

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
    return [
      new InstrumentationNodeModuleDefinition(
        'pg',
        ['*'],
        (exports: unknown, version?: string) =>
          this.patchModule(exports, version, 'pg', PG_MAJORS, poolProtoOfPg, swapPg, restorePg),
        (exports: unknown) => this.unpatchModule(exports, poolProtoOfPg, restorePg),
      ),
      new InstrumentationNodeModuleDefinition(
        'pg-pool',
        ['*'],
        (exports: unknown, version?: string) =>
          this.patchModule(exports, version, 'pg-pool', POOL_MAJORS, poolProtoOfPgPool, swapPgPool, restorePgPool),
        (exports: unknown) => this.unpatchModule(exports, poolProtoOfPgPool, restorePgPool),
      ),
    ];
  }

  override enable(): void {
    try {
      if (!active.includes(this)) active.push(this);
      super.enable();
      for (const m of loaded) {
        patchProto(m.proto);
        m.swap(m.exports);
      }
    } catch (err) {
      this._diag.error('enable failed; pools are not instrumented', err);
    }
  }

  override disable(): void {
    try {
      const i = active.indexOf(this);
      if (i >= 0) active.splice(i, 1);
      super.disable();
      // Also when this instance never saw the modules itself (then OpenTelemetry does not call `unpatch`).
      if (active.length === 0) for (const m of loaded) unpatchLoaded(m.exports, m.proto, m.restore);
    } catch (err) {
      this._diag.error('disable failed', err);
    }
  }

  private patchModule(
    exports: unknown,
    version: string | undefined,
    name: string,
    [min, max]: readonly [number, number],
    protoOf: (e: unknown) => Proto | undefined,
    swap: (e: unknown) => unknown,
    restore: (e: unknown) => void,
  ): unknown {
    try {
      if (!supportedMajor(version, min, max)) {
        this.warnVersion(
          `${name} ${String(version)} is not supported (${name} ${min === max ? min : `${min}-${max}`}.x are); its pools are not instrumented`,
        );
        return exports;
      }
      const proto = protoOf(exports);
      if (proto === undefined) {
        this.warnVersion(
          `${name}${version ? ` ${version}` : ''} does not look like node-postgres (no Pool.prototype.connect/query); not instrumented`,
        );
        return exports;
      }
      if (!loaded.some((m) => m.exports === exports)) loaded.push({ exports, proto, swap, restore });
      patchProto(proto);
      return swap(exports);
    } catch (err) {
      this._diag.error(`patching ${name} failed; its pools are not instrumented`, err);
    }
    return exports;
  }

  private unpatchModule(
    exports: unknown,
    protoOf: (e: unknown) => Proto | undefined,
    restore: (e: unknown) => void,
  ): void {
    try {
      if (active.length > 0) return; // another instance still wants the patch
      unpatchLoaded(exports, protoOf(exports), restore);
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
    const name = callHook(
      'db:poolName',
      '@tuist-telemetry/db: the poolName option',
      () => hook(pool as unknown as PgPool),
      undefined,
    );
    return typeof name === 'string' && name !== '' ? name : undefined;
  }
}

function unpatchLoaded(exports: unknown, proto: Proto | undefined, restore: (e: unknown) => void): void {
  if (proto !== undefined) unpatchProto(proto);
  restore(exports);
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
