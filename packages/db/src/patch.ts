import {
  activeTelemetry,
  InstrumentationRegistry,
  patchMethods,
  unpatchMethods,
  type Method,
} from '@tuist-telemetry/core/internal';
import type { Callback } from './internal-types.js';
import { warnShared } from './instrument.js';
import { bindingOf, instrumentPool, PASS_THROUGH, type MarkedPool } from './pool.js';

/*
 * What TuistPgInstrumentation puts into node-postgres: a stand-in for the exported Pool classes and wrappers on
 * pg-pool's `Pool.prototype.connect`/`.query`, both adopting a pool the first time they see it.
 */

/** What an enabled TuistPgInstrumentation is asked for: the `repo` label of a pool it found. */
export interface Adopter {
  nameOf(pool: object): string | undefined;
}

/** The enabled TuistPgInstrumentation instances, first one first (its config names the pools). */
export const enabled = new InstrumentationRegistry<Adopter>();

/** On pg-pool's `Pool.prototype`; `Symbol.for` so that two copies of this package patch it once. */
const PATCH = Symbol.for('@tuist-telemetry/db.TuistPgInstrumentation');
export type Proto = Record<'connect' | 'query', Callback>;

type PoolClass = abstract new (...args: never[]) => object;

/** The stand-in of each Pool class, and the class behind each stand-in. */
const standIns = new WeakMap<PoolClass, PoolClass>();
const originalOf = new WeakMap<PoolClass, PoolClass>();

/** Instruments a pool (created or first used) while an instrumentation is enabled, unless it is instrumented already. */
function adopt(pool: MarkedPool): void {
  const owner = enabled.first;
  if (owner === undefined || bindingOf(pool) !== undefined || typeof pool.on !== 'function') return;
  const name = owner.nameOf(pool);
  const sharing = instrumentPool(pool, { name, telemetry: undefined, foundBy: enabled, cache: undefined });
  const t = activeTelemetry();
  if (t !== undefined) warnShared(sharing, name, t);
}

/**
 * The stand-in for a Pool class that instruments every pool it constructs while an instrumentation is enabled
 * (and constructs plainly otherwise), so that a pool created and never used still has its gauges. A Proxy rather
 * than a subclass: `prototype`, statics, `instanceof` (for pools made before and after) and `extends` behave as
 * the class's own; a subclass constructing through `super()` is caught too, once.
 */
export function standInFor(Pool: PoolClass): PoolClass {
  if (originalOf.has(Pool)) return Pool;
  let standIn = standIns.get(Pool);
  if (standIn === undefined) {
    standIn = new Proxy(Pool, {
      construct(target, args, newTarget): object {
        const pool = Reflect.construct(target, args, newTarget) as MarkedPool;
        if (enabled.any) {
          try {
            adopt(pool);
          } catch {
            // never into the host: the pool works uninstrumented (its first use tries again)
          }
        }
        return pool;
      },
    });
    standIns.set(Pool, standIn);
    originalOf.set(standIn, Pool);
  }
  return standIn;
}

/** `obj[key]` becomes the stand-in of the Pool class it holds (no-op when it holds none or one already). */
export function swapPoolClass(obj: unknown, key: string): void {
  if (typeof obj !== 'object' || obj === null) return;
  const Pool = (obj as Record<string, unknown>)[key];
  if (typeof Pool !== 'function' || originalOf.has(Pool as PoolClass)) return;
  (obj as Record<string, unknown>)[key] = standInFor(Pool as PoolClass);
}

/** Puts the original class back where `obj[key]` still holds our stand-in. */
export function restorePoolClass(obj: unknown, key: string): void {
  if (typeof obj !== 'object' || obj === null) return;
  const original = originalOf.get((obj as Record<string, unknown>)[key] as PoolClass);
  if (original !== undefined) (obj as Record<string, unknown>)[key] = original;
}

/** A pool made before enable() (or through a class we could not reach) is instrumented when first used. */
function adoptingWrapper(key: 'connect' | 'query'): (next: () => Method) => Method {
  // `arguments` is forwarded as it is: no rest array per call on a path every query of every pool takes.
  return (next) => {
    const wrapper = function (this: unknown): unknown {
      const pool = this as MarkedPool;
      if (typeof pool === 'object' && pool !== null && bindingOf(pool) === undefined && enabled.any) {
        try {
          adopt(pool);
        } catch {
          // never into the host: the call goes on uninstrumented
        }
        // The pool's own wrapper now times this call; it comes back here (marked) for the original.
        const own = Object.getOwnPropertyDescriptor(pool, key)?.value as Callback | undefined;
        if (typeof own === 'function' && own !== wrapper) return own.apply(pool, arguments as unknown as unknown[]);
      }
      return next().apply(this, arguments as unknown as unknown[]);
    };
    // A pool's own wrappers (pool.ts) call `next()` directly: a pool that has them is adopted already.
    Object.defineProperty(wrapper, PASS_THROUGH, { value: next });
    return wrapper;
  };
}

/** Wraps pg-pool's `connect` and `query` (again, where they were unwrapped while someone else's sat on top). */
export function patchProto(proto: Proto): void {
  patchMethods(proto, PATCH, { connect: adoptingWrapper('connect'), query: adoptingWrapper('query') });
}

/**
 * Restores the prototype's methods when ours are still on top; when another instrumentation wrapped them since,
 * ours stay in place under theirs (unwrapping would remove theirs) and pass calls straight through while disabled.
 */
export function unpatchProto(proto: Proto): void {
  unpatchMethods(proto, PATCH);
}
