import { activeTelemetry, callHook, type Telemetry } from '@tuist-telemetry/core/internal';
import { recorderFor } from './recorder.js';
import type { RequestLabelSet } from './label-sets.js';
import { reportInternalError } from './report.js';
import type { IgnoreRequest, Uninstall } from './types.js';
import { methodLabel } from '../common/labels.js';
import { labelSetFor, OriginCache } from './origin.js';

/** The methods fetch upper-cases (the Fetch standard's normalisation); any other is sent as written. */
const NORMALISED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const origins = new OriginCache();

interface Measured {
  readonly telemetry: Telemetry;
  readonly set: RequestLabelSet;
  readonly start: number;
}

type Fetch = typeof globalThis.fetch;

function urlOf(input: unknown): string | undefined {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  const url = (input as { url?: unknown } | null | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}

function methodOf(input: unknown, init: unknown): string {
  const given =
    (init as { method?: unknown } | null | undefined)?.method ??
    (input as { method?: unknown } | null | undefined)?.method;
  if (typeof given !== 'string') return 'GET';
  const upper = given.toUpperCase();
  return methodLabel(NORMALISED.has(upper) ? upper : given);
}

function measure(
  input: unknown,
  init: unknown,
  ignore: IgnoreRequest | undefined,
  explicit: Telemetry | undefined,
): Measured | undefined {
  const start = performance.now();
  const href = urlOf(input);
  if (href === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined; // a relative URL fetch rejects anyway (or resolves against a base only Deno has): not ours to name
  }
  const origin = origins.get(url.origin);
  if (origin === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  const path = url.pathname + url.search;
  if (
    ignore !== undefined &&
    callHook(
      'http:ignore',
      '@tuist-telemetry/http: the ignore option',
      () => ignore(origin.origin, path) === true,
      false,
      explicit,
    )
  )
    return undefined;
  const telemetry = activeTelemetry(explicit);
  if (telemetry === undefined || telemetry.isExcludedFromHttpMetrics(origin.origin, path)) return undefined;
  return { telemetry, set: labelSetFor(origin, methodOf(input, init)), start };
}

function record(m: Measured, status: number | undefined): void {
  try {
    recorderFor(m.telemetry).finished(m.set, status, performance.now() - m.start, -1);
  } catch (err) {
    reportInternalError('fetch', err);
  }
}

/**
 * The runtime's own `fetch` measured (Bun and Deno, where `fetch` is not undici and undici's dispatcher and channels
 * never see it): `tuist_http_request_count` and `tuist_http_request_duration_nanosecond` per request, from the call
 * until the response headers arrived (the body is not watched), with status `error` when the promise rejects. The
 * queue, connection, send and receive families stay undici's: these runtimes do not expose those phases.
 * Returns a function that puts the previous `fetch` back (unless someone replaced the wrapper since).
 */
export function instrumentFetch(options: { ignore?: IgnoreRequest; telemetry?: Telemetry } = {}): Uninstall {
  const original = globalThis.fetch as Fetch | undefined;
  if (typeof original !== 'function') return () => {};
  const { ignore, telemetry } = options;
  const wrapper = function fetch(
    this: unknown,
    input: Parameters<Fetch>[0],
    init?: Parameters<Fetch>[1],
  ): Promise<Response> {
    let m: Measured | undefined;
    try {
      m = measure(input, init, ignore, telemetry);
    } catch (err) {
      reportInternalError('fetch', err);
    }
    // eslint-disable-next-line prefer-rest-params
    const pending = Reflect.apply(original, this, arguments) as Promise<Response>;
    if (m === undefined) return pending;
    const measured = m;
    return pending.then(
      (res) => {
        record(measured, res.status);
        return res;
      },
      (err: unknown) => {
        record(measured, undefined);
        throw err;
      },
    );
  } as Fetch;
  // Runtime extras (Bun's fetch.preconnect) stay reachable.
  for (const key of Reflect.ownKeys(original)) {
    if (!(key in wrapper)) {
      try {
        Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key)!);
      } catch {
        /* a key the function object refuses */
      }
    }
  }
  globalThis.fetch = wrapper;
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    if (globalThis.fetch === wrapper) globalThis.fetch = original;
  };
}
