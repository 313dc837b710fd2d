import { activeTelemetry, patchMethods, type Method } from '@tuist-telemetry/core/internal';
import { recordServed, UNMATCHED_ROUTE } from './http-server.js';

type Handler = (this: unknown, req: Request, ...rest: unknown[]) => unknown;

/** On `Bun` / `Deno`: the patch record of `serve`; `Symbol.for` so two copies of this package wrap it once. */
const WRAPPED = Symbol.for('@tuist-telemetry/http.nativeServe');

/** The status of a handler's answer: its Response's, or 500 (what Bun and Deno answer) when it threw or rejected. */
function statusOf(res: unknown): string {
  const status = (res as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'number' ? String(status) : '500';
}

/** `handler` measured under `route`, while `isActive()`: from the call until it returned (or resolved to) its Response. */
function measured(handler: Handler, route: string, isActive: () => boolean): Handler {
  return function (this: unknown, req: Request, ...rest: unknown[]): unknown {
    const t = isActive() ? activeTelemetry() : undefined;
    if (t === undefined) return Reflect.apply(handler, this, [req, ...rest]);
    const start = performance.now();
    const method = (req as { method?: string } | null | undefined)?.method;
    let out: unknown;
    try {
      out = Reflect.apply(handler, this, [req, ...rest]);
    } catch (err) {
      recordServed(t, method, route, '500', start);
      throw err;
    }
    if (typeof (out as Promise<unknown> | null)?.then !== 'function') {
      recordServed(t, method, route, statusOf(out), start);
      return out;
    }
    return (out as Promise<unknown>).then(
      (res) => {
        recordServed(t, method, route, statusOf(res), start);
        return res;
      },
      (err: unknown) => {
        recordServed(t, method, route, '500', start);
        throw err;
      },
    );
  };
}

/** Bun's `routes` option: each handler (or per-method handler) measured under its path, which is the template. */
function measuredRoutes(routes: unknown, isActive: () => boolean): unknown {
  if (routes === null || typeof routes !== 'object') return routes;
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(routes as Record<string, unknown>)) {
    if (typeof value === 'function') out[path] = measured(value as Handler, path, isActive);
    else if (value !== null && typeof value === 'object' && !(value instanceof Response)) {
      const methods: Record<string, unknown> = {};
      for (const [m, h] of Object.entries(value as Record<string, unknown>))
        methods[m] = typeof h === 'function' ? measured(h as Handler, path, isActive) : h;
      out[path] = methods;
    } else out[path] = value; // a static Response: served by Bun itself, not measured
  }
  return out;
}

/** The options of `Bun.serve` with `fetch` (route `unmatched`) and `routes` measured. */
function bunOptions(options: unknown, isActive: () => boolean): unknown {
  if (options === null || typeof options !== 'object') return options;
  const o = options as { fetch?: unknown; routes?: unknown };
  const copy: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  if (typeof o.fetch === 'function') copy.fetch = measured(o.fetch as Handler, UNMATCHED_ROUTE, isActive);
  if (o.routes !== undefined) copy.routes = measuredRoutes(o.routes, isActive);
  return copy;
}

/** `Deno.serve(handler)`, `(options, handler)` or `({ handler, ... })`, with the handler measured (route `unmatched`). */
function denoArgs(args: unknown[], isActive: () => boolean): unknown[] {
  return args.map((a) => {
    if (typeof a === 'function') return measured(a as Handler, UNMATCHED_ROUTE, isActive);
    if (a !== null && typeof a === 'object' && typeof (a as { handler?: unknown }).handler === 'function') {
      return {
        ...(a as Record<string, unknown>),
        handler: measured((a as { handler: Handler }).handler, UNMATCHED_ROUTE, isActive),
      };
    }
    return a;
  });
}

/**
 * Wraps the runtime's own server, `Bun.serve` or `Deno.serve`, so that the servers started afterwards record
 * `tuist_http_server_requests_total` and its duration like `node:http` ones: route = Bun's `routes` key (a template
 * such as `/builds/:id`) for a route handler, `unmatched` for the `fetch`/Deno handler; duration until the handler's
 * Response (its body is not watched). Passes through while `isActive()` is false. Never throws: a runtime without
 * such a server is left alone.
 */
export function patchNativeServe(isActive: () => boolean): void {
  const g = globalThis as { Bun?: Record<string, unknown>; Deno?: Record<string, unknown> };
  const host = g.Bun ?? g.Deno;
  const isBun = g.Bun !== undefined;
  if (host === undefined || typeof host.serve !== 'function') return;
  const wrap = (original: () => Method): Method =>
    function serveMeasured(this: unknown, ...args: unknown[]): unknown {
      let given = args;
      try {
        given = isBun ? [bunOptions(args[0], isActive), ...args.slice(1)] : denoArgs(args, isActive);
      } catch {
        given = args; // never into the host: its server runs unmeasured
      }
      return Reflect.apply(original(), this, given);
    };
  try {
    patchMethods(host, WRAPPED, { serve: wrap });
  } catch {
    /* a read-only serve: left alone */
  }
}
