/* Request origins as undici gives them, parsed into the `request_host` label (and cached). */

import { RequestLabelSet } from './label-sets.js';

export interface Origin {
  /** The normalised origin (`http://127.0.0.1:8080`), as undici keys its pools. */
  origin: string;
  /** The host name without port or IPv6 brackets (`127.0.0.1`, `::1`, `example.com`). */
  host: string;
  /** The label sets of this host by method label, made by `labelSetFor` on first use. */
  sets?: Map<string, RequestLabelSet>;
}

/** The label set of a request to `origin` with method label `method` (shared by every such request). */
export function labelSetFor(origin: Origin, method: string): RequestLabelSet {
  let sets = origin.sets;
  if (sets === undefined) origin.sets = sets = new Map();
  let set = sets.get(method);
  if (set === undefined) {
    set = new RequestLabelSet(method, origin.host);
    sets.set(method, set);
  }
  return set;
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
