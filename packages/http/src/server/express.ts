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
import { patchMethods, patchRecord, unpatchMethods, type Method } from '@tuist-telemetry/core/internal';

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

/** On the patched prototypes: their patch records. `Symbol.for` so that two copies of this package patch once. */
const PATCH = Symbol.for('@tuist-telemetry/http.expressRouter');

/** What a `router` 2.x module has to patch: `Router.prototype` and Layer's prototype. */
export interface RouterTarget {
  readonly proto: RouterProto;
  readonly layerProto: LayerProto;
}

/** The prototypes to patch of a `router` 2.x module (the `Router` function); `undefined` when it does not look like one. */
export function findRouter(Router: unknown): RouterTarget | undefined {
  if (typeof Router !== 'function') return undefined;
  const proto = (Router as { prototype: unknown }).prototype as RouterProto;
  if (typeof proto?.use !== 'function' || typeof proto.route !== 'function') return undefined;
  const layerProto = layerProtoOf(Router as new () => RouterProto, proto);
  return layerProto === undefined ? undefined : { proto, layerProto };
}

/** `use`/`route` remember the path each new layer was registered with. */
function recording(pathOf: (args: unknown[]) => unknown): (original: () => Method) => Method {
  return (original) =>
    function (this: unknown, ...args: unknown[]): unknown {
      const stack = (this as RouterProto).stack;
      const before = Array.isArray(stack) ? stack.length : 0;
      const result = original().apply(this, args);
      if (Array.isArray(stack)) {
        const path = pathOf(args);
        for (let i = before; i < stack.length; i++)
          if (typeof stack[i] === 'object' && stack[i] !== null) patterns.set(stack[i] as object, path);
      }
      return result;
    };
}

/**
 * Patches a `router` 2.x module: `use`/`route` remember each new layer's path, and `Layer.prototype.handleRequest`
 * tracks the mounts a request is in. `isOn()` false: the wrappers pass through.
 */
export function patchRouter({ proto, layerProto }: RouterTarget, isOn: () => boolean): void {
  patchMethods(proto, PATCH, { use: recording(usePath), route: recording((args) => args[0]) });
  patchMethods(layerProto, PATCH, {
    handleRequest: (original) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const handleRequest = original();
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
export function unpatchRouter(target: RouterTarget | undefined): void {
  if (target === undefined) return;
  unpatchMethods(target.proto, PATCH);
  unpatchMethods(target.layerProto, PATCH);
}

/** Layer.prototype, found through a throwaway router (the `router` package does not export Layer). */
function layerProtoOf(Router: new () => RouterProto, proto: RouterProto): LayerProto | undefined {
  const route = patchRecord(proto, PATCH)?.originals.route ?? proto.route;
  const probe = new Router();
  route.call(probe, '/');
  const layer = probe.stack?.[0];
  const lp = typeof layer === 'object' && layer !== null ? (Object.getPrototypeOf(layer) as LayerProto) : undefined;
  return typeof lp?.handleRequest === 'function' ? lp : undefined;
}
