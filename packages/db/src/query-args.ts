/* How node-postgres's `query` calls are shaped (callback, promise or submittable). */
import type { Callback, Submittable, Thenable } from './internal-types.js';

/** True for a query object that submits itself (pg's `Query`, pg-cursor, pg-query-stream). */
export function isSubmittable(config: unknown): config is Submittable {
  return typeof config === 'object' && config !== null && typeof (config as { submit?: unknown }).submit === 'function';
}

export function isThenable(value: unknown): value is Thenable {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Thenable).then === 'function'
  );
}

/**
 * Where the callback of `client.query(config, values, callback)` comes from, following node-postgres's own
 * precedence: the third argument, else a function as second argument, else `config.callback`.
 * `'none'` means promise style; `'invalid'` means node-postgres will reject the call itself (left untouched).
 */
export type CallbackSource = 'callback' | 'values' | 'config' | 'none' | 'invalid';

export function callbackSource(config: unknown, values: unknown, callback: unknown): CallbackSource {
  if (callback) return typeof callback === 'function' ? 'callback' : 'invalid';
  if (typeof values === 'function') return 'values';
  const own = typeof config === 'object' && config !== null ? (config as { callback?: unknown }).callback : undefined;
  if (own) return typeof own === 'function' ? 'config' : 'invalid';
  return 'none';
}

/**
 * The arguments to call node-postgres with so that `wrapped` is the callback it uses; the caller's own values
 * and config object are passed through untouched.
 */
export function withCallback(source: 'callback' | 'values' | 'config', args: unknown[], wrapped: Callback): unknown[] {
  // `args` is the wrapper's own rest array (never the caller's), so it is changed in place.
  const out = args;
  if (source === 'values') out[1] = wrapped;
  else {
    // The third argument takes precedence over `config.callback` in node-postgres, so the config stays as given.
    while (out.length < 2) out.push(undefined);
    out[2] = wrapped;
  }
  return out;
}
