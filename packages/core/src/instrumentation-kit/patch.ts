/*
 * Method patches that coexist with other instrumentations' patches of the same methods.
 *
 * Hand-written, not the stock `InstrumentationBase._wrap`/`_unwrap` (shimmer): shimmer's unwrap puts the original
 * back whatever sits on top, which removes a wrapper another instrumentation (instrumentation-pg, -http, -express,
 * -aws-sdk) put over ours, and it keeps its record on the wrapper, where a second copy of the same package cannot
 * find it. Here the record lives on the patched object under a `Symbol.for` key (two copies of a package patch
 * once), a wrapper is put back only where the original is in place again, and removed only while it is still on
 * top; under someone else's wrapper ours stays, and the instrumentation's wrapper passes calls through while it is
 * disabled.
 */

export type Method = (this: unknown, ...args: unknown[]) => unknown;

/** What a patched object keeps under its patch key. */
export interface PatchRecord {
  /** The object's own methods before the patch; `undefined` for a method it inherited. */
  readonly originals: Readonly<Record<string, Method | undefined>>;
  readonly wrappers: Readonly<Record<string, Method>>;
}

/**
 * Makes the wrapper of one method from `next`, which returns the method to call on at the time of the call: the
 * object's own original, or, for a method it inherits, what its parent has then (so a patch put on the parent
 * later still runs). `next` is a closure, not a forwarding function: no extra call frame or arguments array.
 */
export type WrapperFactory = (next: () => Method) => Method;

type Methods = Record<string, Method | undefined>;

/** The patch record of `target` under `key`, or `undefined` when it was never patched under that key. */
export function patchRecord(target: object, key: symbol): PatchRecord | undefined {
  return (target as Record<symbol, PatchRecord | undefined>)[key];
}

function ownMethod(target: object, name: string): Method | undefined {
  return Object.hasOwn(target, name) ? (target as Methods)[name] : undefined;
}

/** Sets `target[name]`, keeping the attributes of an own property (a class method stays non-enumerable). */
function setMethod(target: object, name: string, value: Method): void {
  const own = Object.getOwnPropertyDescriptor(target, name);
  if (own !== undefined && 'value' in own) Object.defineProperty(target, name, { ...own, value });
  else Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Puts a wrapper in place of each method of `target` named in `factories` and records the patch under `key`.
 * Patched before (by this or another copy of the package, maybe unpatched since): the recorded wrappers are put
 * back where the originals are in place again; none is made anew. Returns the record.
 */
export function patchMethods(
  target: object,
  key: symbol,
  factories: Readonly<Record<string, WrapperFactory>>,
): PatchRecord {
  const existing = patchRecord(target, key);
  if (existing !== undefined) {
    for (const [name, wrapper] of Object.entries(existing.wrappers))
      if (ownMethod(target, name) === existing.originals[name]) setMethod(target, name, wrapper);
    return existing;
  }
  const originals: Methods = {};
  const wrappers: Record<string, Method> = {};
  const parent = Object.getPrototypeOf(target) as Methods;
  for (const [name, factory] of Object.entries(factories)) {
    const own = ownMethod(target, name);
    originals[name] = own;
    wrappers[name] = factory(own !== undefined ? () => own : () => parent[name] as Method);
  }
  const record: PatchRecord = { originals, wrappers };
  Object.defineProperty(target, key, { value: record, configurable: true });
  for (const [name, wrapper] of Object.entries(wrappers)) setMethod(target, name, wrapper);
  return record;
}

/** Takes the wrappers recorded under `key` off `target` where they are still on top (see the file's comment). */
export function unpatchMethods(target: object, key: symbol): void {
  const record = patchRecord(target, key);
  if (record === undefined) return;
  for (const [name, wrapper] of Object.entries(record.wrappers)) {
    if (ownMethod(target, name) !== wrapper) continue;
    const original = record.originals[name];
    if (original !== undefined) setMethod(target, name, original);
    else delete (target as Methods)[name];
  }
}
