/** The methods kept as they are in the `request_method` label; any other method becomes `_OTHER`. */
export const KNOWN_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
];
export const OTHER_METHOD = '_OTHER';
/** The status label of a request that got no response (connection refused, reset, aborted, timed out). */
export const ERROR_STATUS = 'error';
/** The `size` label of a pool without a connection limit. */
export const UNLIMITED = 'unlimited';

const methods = new Set<unknown>(KNOWN_METHODS);

/**
 * `request_method` for an HTTP method: a standard method as it is, anything else `_OTHER`. Methods are
 * case-sensitive (RFC 9110), so `get` is not `GET` (undici sends it as written; servers answer 400).
 */
export function methodLabel(method: unknown): string {
  return methods.has(method) ? (method as string) : OTHER_METHOD;
}

/** The response status label: the numeric status code, or `error` when no response arrived. */
export function statusLabel(statusCode: number | undefined): string {
  return statusCode === undefined ? ERROR_STATUS : String(statusCode);
}

/** The `size` label of a pool: its connection limit, `unlimited` when undici opens as many as needed. */
export function poolSizeLabel(connections: number | null | undefined): string {
  return connections === undefined || connections === null || connections === 0 ? UNLIMITED : String(connections);
}

export interface Origin {
  /** The normalised origin (`http://127.0.0.1:8080`), as undici keys its pools. */
  origin: string;
  /** The host name without port or IPv6 brackets (`127.0.0.1`, `::1`, `example.com`). */
  host: string;
}

/** Parses a dispatch origin (string or URL); `undefined` when it is not a URL. */
export function parseOrigin(origin: unknown): Origin | undefined {
  let url: URL;
  try {
    url = origin instanceof URL ? origin : new URL(String(origin));
  } catch {
    return undefined;
  }
  const h = url.hostname;
  const host = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  return { origin: url.origin, host: host === '' ? 'unknown' : host };
}

const MAX_CACHED_ORIGINS = 1000;

/** `parseOrigin` with a small cache for string origins: a service talks to a handful of hosts. */
export class OriginCache {
  private readonly cache = new Map<string, Origin | undefined>();
  // The origin of the previous call: undici hands a freshly built origin string to every dispatch, and a Map lookup
  // must hash it each time (about 0.2 µs per request on Node 24 in a `--cpu-prof` of the undici bench); comparing it
  // with the last one is a length check and a short memcmp.
  private lastKey: string | undefined;
  private lastValue: Origin | undefined;
  get(origin: unknown): Origin | undefined {
    if (typeof origin !== 'string') return parseOrigin(origin);
    if (origin === this.lastKey) return this.lastValue;
    let o = this.cache.get(origin);
    if (o === undefined && !this.cache.has(origin)) {
      o = parseOrigin(origin);
      if (this.cache.size >= MAX_CACHED_ORIGINS) this.cache.clear();
      this.cache.set(origin, o);
    }
    this.lastKey = origin;
    this.lastValue = o;
    return o;
  }
}

/** Milliseconds (from `performance.now()`) to whole nanoseconds, never negative. */
export function msToNs(ms: number): number {
  return ms > 0 ? Math.round(ms * 1e6) : 0;
}
