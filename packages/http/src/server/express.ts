/*
 * Express 5 route templates through mounted routers. Express leaves the matched route on the request
 * (`req.route.path`) but only the concrete mount path (`req.baseUrl`, e.g. `/projects/123`), so
 * `app.use('/projects/:id', router)` cannot be named from the request alone. This patch of the `router` package
 * (Express 5's router) remembers the path pattern each layer was registered with, keeps the patterns of the mount
 * layers a request is inside, and when a route layer takes the request stores the whole template
 * (`/projects/:id` + `/runs/:run`). Hand-written: the stock instrumentation-express records the same through spans
 * only (and 0.x of it targets OTel 3 / Node 22); nothing in this repo's OTel line exposes the template.
 */
import type { IncomingMessage } from 'node:http';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
interface LayerLike {
  route?: { path?: unknown } | undefined;
  rawPath?: unknown;
}
interface RouterProto {
  use: Fn;
  route: Fn;
  stack?: unknown[];
}
interface LayerProto {
  handleRequest: Fn;
}

/** What a request went through: mount patterns (`undefined` when one is unknown) and the template of its route. */
interface RequestState {
  readonly mounts: (string | undefined)[];
  /** The route's whole template; `false`: a route took it but its template is unknown; `undefined`: no route yet. */
  route: string | false | undefined;
}

/** Layer → the path it was registered with (recorded by `use`/`route`; router 2.3+ also keeps `layer.rawPath`). */
const patterns = new WeakMap<object, unknown>();
const states = new WeakMap<object, RequestState>();

/** The label form of a registered path: a string as given, a RegExp as written, an array joined with `,`. */
function templateOf(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) {
    const parts = (path as unknown[]).flat(Infinity).map(templateOf);
    return parts.length > 0 && parts.every((p) => p !== undefined) ? parts.join(',') : undefined;
  }
  return undefined;
}

/** A mount path's share of the template: `/` adds nothing, a trailing `/` is dropped (as Express drops it). */
function mountPart(path: unknown): string | undefined {
  const t = templateOf(path);
  if (t === undefined) return undefined;
  return typeof path === 'string' && t.endsWith('/') ? t.slice(0, -1) : t;
}

function patternOf(layer: LayerLike): unknown {
  return patterns.has(layer) ? patterns.get(layer) : layer.rawPath;
}

/** The first argument of `router.use(...)` when it is a path (Express's own rule), else `/`. */
function usePath(args: unknown[]): unknown {
  let arg = args[0];
  while (Array.isArray(arg) && arg.length !== 0) arg = arg[0];
  return typeof arg === 'function' ? '/' : args[0];
}

/**
 * The template Express 5 matched for `req` when the router patch saw it: a string, `false` when the route's
 * template cannot be known, `undefined` when the patch did not see a route take the request.
 */
export function expressTemplate(req: IncomingMessage): string | false | undefined {
  return states.get(req)?.route;
}

/** On the patched prototypes: the originals, to restore. `Symbol.for` so that two copies of this package patch once. */
const PATCH = Symbol.for('@tuist-telemetry/http.expressRouter');
interface Patched {
  [PATCH]?: { originals: Record<string, Fn>; wrappers: Record<string, Fn> };
}

/**
 * Patches a `router` 2.x module (the `Router` function): `use`/`route` remember each new layer's path, and
 * `Layer.prototype.handleRequest` tracks the mounts a request is in. `isOn()` false: the wrappers pass through.
 * Returns false when the module does not look like router 2.x.
 */
export function patchRouter(Router: unknown, isOn: () => boolean): boolean {
  if (typeof Router !== 'function') return false;
  const proto = (Router as { prototype: unknown }).prototype as RouterProto & Patched;
  if (typeof proto?.use !== 'function' || typeof proto.route !== 'function') return false;
  const layerProto = layerProtoOf(Router as new () => RouterProto, proto);
  if (layerProto === undefined) return false;
  if (proto[PATCH] !== undefined) {
    reapply(proto);
    reapply(layerProto as LayerProto & Patched);
    return true;
  }
  const record = (original: Fn, pathOf: (args: unknown[]) => unknown): Fn =>
    function (this: unknown, ...args: unknown[]): unknown {
      const stack = (this as RouterProto).stack;
      const before = Array.isArray(stack) ? stack.length : 0;
      const result = original.apply(this, args);
      if (Array.isArray(stack)) {
        const path = pathOf(args);
        for (let i = before; i < stack.length; i++)
          if (typeof stack[i] === 'object' && stack[i] !== null) patterns.set(stack[i] as object, path);
      }
      return result;
    };
  install(proto, { use: record(proto.use, usePath), route: record(proto.route, (args) => args[0]) });

  const handleRequest = layerProto.handleRequest;
  install(layerProto as LayerProto & Patched, {
    handleRequest: function (this: unknown, ...args: unknown[]): unknown {
      const [req, res, next] = args;
      if (!isOn() || typeof req !== 'object' || req === null || typeof next !== 'function')
        return handleRequest.call(this, req, res, next);
      let onward = next as Fn;
      try {
        onward = enter(this as LayerLike, req, onward);
      } catch {
        // never into the host: the request goes on, its route possibly unnamed
      }
      return handleRequest.call(this, req, res, onward);
    },
  });
  return true;
}

/**
 * A layer takes the request: a route layer stores the whole template; a mount (a router, a sub-app, path-scoped
 * middleware) adds its pattern until it calls `next`. Returns the `next` to hand the layer.
 */
function enter(layer: LayerLike, req: object, next: Fn): Fn {
  let state = states.get(req);
  if (state === undefined) states.set(req, (state = { mounts: [], route: undefined }));
  if (typeof layer.route === 'object' && layer.route !== null) {
    const parts = [...state.mounts, templateOf(layer.route.path)];
    state.route = parts.every((p) => p !== undefined) ? parts.join('') || '/' : false;
    return next;
  }
  const mounts = state.mounts;
  const depth = mounts.length;
  mounts.push(mountPart(patternOf(layer)));
  return function (this: unknown, ...args: unknown[]): unknown {
    mounts.length = depth;
    return next.apply(this, args);
  };
}

/** Restores the originals where our wrappers are still on top (under someone else's they stay, passing through). */
export function unpatchRouter(Router: unknown): void {
  if (typeof Router !== 'function') return;
  const proto = (Router as { prototype: RouterProto & Patched }).prototype;
  const layerProto = layerProtoOf(Router as new () => RouterProto, proto);
  for (const p of [proto, layerProto as (LayerProto & Patched) | undefined]) {
    const patch = p?.[PATCH];
    if (p === undefined || patch === undefined) continue;
    for (const [key, wrapper] of Object.entries(patch.wrappers))
      if ((p as unknown as Record<string, Fn>)[key] === wrapper)
        (p as unknown as Record<string, Fn>)[key] = patch.originals[key]!;
  }
}

/** Layer.prototype, found through a throwaway router (the `router` package does not export Layer). */
function layerProtoOf(Router: new () => RouterProto, proto: RouterProto & Patched): LayerProto | undefined {
  const route = proto[PATCH]?.originals.route ?? proto.route;
  const probe = new Router();
  route.call(probe, '/');
  const layer = probe.stack?.[0];
  const lp = typeof layer === 'object' && layer !== null ? (Object.getPrototypeOf(layer) as LayerProto) : undefined;
  return typeof lp?.handleRequest === 'function' ? lp : undefined;
}

function install(target: object & Patched, wrappers: Record<string, Fn>): void {
  const t = target as unknown as Record<string, Fn>;
  const originals: Record<string, Fn> = {};
  for (const key of Object.keys(wrappers)) originals[key] = t[key]!;
  Object.defineProperty(target, PATCH, { value: { originals, wrappers }, configurable: true });
  for (const [key, wrapper] of Object.entries(wrappers)) t[key] = wrapper;
}

function reapply(target: object & Patched): void {
  const patch = target[PATCH];
  if (patch === undefined) return;
  const t = target as unknown as Record<string, Fn>;
  for (const [key, wrapper] of Object.entries(patch.wrappers)) if (t[key] === patch.originals[key]) t[key] = wrapper;
}
