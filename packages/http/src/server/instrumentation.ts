import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { reportFailure } from '@tuist-telemetry/core/internal';
import type { TuistHttpServerInstrumentationConfig } from '../types.js';
import { patchRouter, unpatchRouter } from './express.js';
import { isInstrumentedServer, trackRequest } from './http-server.js';
import { patchNativeServe } from './native.js';
import { subscribeFrameworkRoutes } from './routes.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

type Emit = (this: object, ...args: unknown[]) => boolean;
interface EmitPatch {
  readonly wrapper: Emit;
  /** An own `emit` the prototype had before (none in Node 20-24). */
  readonly own: Emit | undefined;
}
/** On `http.Server.prototype` / `https.Server.prototype`; `Symbol.for` so two copies of this package patch once. */
const PATCH = Symbol.for('@tuist-telemetry/http.TuistHttpServerInstrumentation');
type Proto = { emit: Emit; [PATCH]?: EmitPatch };

/** Marks the servers of the SDK itself (core's Prometheus endpoint): their requests are not the host's traffic. */
const INTERNAL_SERVER = Symbol.for('@tuist-telemetry/core.internalServer');

/** The enabled instances, first one first (its `routeFor` is used). */
const active: TuistHttpServerInstrumentation[] = [];

/**
 * Every `node:http` and `node:https` server (Express, Fastify, Koa, plain) records
 * `tuist_http_server_requests_total{method, route, status}` and its duration histogram into the running telemetry,
 * as `instrumentHttpServer` does: `route` is Express's or Fastify's matched template, else the `routeFor` config,
 * else `unmatched`; never the raw path. Servers given to `instrumentHttpServer` keep its options and are never
 * counted twice.
 *
 * Node's built-in modules are one object for CJS and ESM, so it patches `Server.prototype.emit` of both directly
 * (no loader hook needed), with a wrapper that never unwraps anyone else's and passes through once disabled.
 */
export class TuistHttpServerInstrumentation extends InstrumentationBase<TuistHttpServerInstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'http';
  readonly shortName = TuistHttpServerInstrumentation.shortName;
  declare private release: (() => void) | undefined;
  declare private warnedRouter: boolean | undefined;

  constructor(config: TuistHttpServerInstrumentationConfig = {}) {
    super('@tuist-telemetry/http/server', VERSION, config);
  }

  /** The `router` package (Express 5's router): route templates through mounted routers (see express.ts). */
  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'router',
        ['*'],
        (exports: unknown, version?: string) => this.patchRouterModule(exports, version),
        (exports: unknown) => this.unpatchRouterModule(exports),
      ),
    ];
  }

  private patchRouterModule(exports: unknown, version: string | undefined): unknown {
    try {
      const Router = routerOf(exports);
      const major = typeof version === 'string' ? Number(/^(\d+)\./.exec(version)?.[1]) : undefined;
      if (major !== undefined && major !== 2)
        return this.warnRouter(
          `router ${version} is not supported (router 2.x, Express 5's, is); routes under mount paths are not named`,
          exports,
        );
      if (!patchRouter(Router, () => active.length > 0))
        return this.warnRouter(
          `router${version ? ` ${version}` : ''} does not look like router 2.x; routes under mount paths are not named`,
          exports,
        );
    } catch (err) {
      this._diag.error('patching router failed; routes under mount paths are not named', err);
    }
    return exports;
  }

  private unpatchRouterModule(exports: unknown): void {
    try {
      if (active.length === 0) unpatchRouter(routerOf(exports));
    } catch (err) {
      this._diag.error('unpatching router failed', err);
    }
  }

  private warnRouter(message: string, exports: unknown): unknown {
    if (!this.warnedRouter) this._diag.warn(message);
    this.warnedRouter = true;
    return exports;
  }

  override setConfig(config: TuistHttpServerInstrumentationConfig = {}): void {
    const given = config === null || typeof config !== 'object' ? {} : config;
    if (given.routeFor !== undefined && typeof given.routeFor !== 'function') {
      this._diag.warn(
        `routeFor must be a function (req) => route template | undefined, got ${typeof given.routeFor}; ignored`,
      );
      const { routeFor: _ignored, ...rest } = given;
      super.setConfig(rest);
      return;
    }
    super.setConfig(given);
  }

  override enable(): void {
    if (this.release !== undefined) return;
    try {
      this.release = subscribeFrameworkRoutes();
      active.push(this);
      for (const proto of protos()) patchProto(proto);
      patchNativeServe(() => active.length > 0); // Bun.serve, Deno.serve
      super.enable();
    } catch (err) {
      this._diag.error('enable failed; servers are not instrumented', err);
    }
  }

  override disable(): void {
    const release = this.release;
    if (release === undefined) return;
    this.release = undefined;
    try {
      release();
      const i = active.indexOf(this);
      if (i >= 0) active.splice(i, 1);
      if (active.length === 0) for (const proto of protos()) unpatchProto(proto);
      super.disable();
    } catch (err) {
      this._diag.error('disable failed', err);
    }
  }

  override isEnabled(): boolean {
    return this.release !== undefined;
  }
}

/** The `router` module: the Router function itself (CJS), or under `default` (an ESM namespace). */
function routerOf(exports: unknown): unknown {
  return typeof exports === 'function' ? exports : (exports as { default?: unknown } | undefined)?.default;
}

function protos(): Proto[] {
  return [http.Server.prototype as unknown as Proto, https.Server.prototype as unknown as Proto];
}

function onRequest(server: object, req: unknown, res: unknown): void {
  const owner = active[0];
  if (
    owner === undefined ||
    isInstrumentedServer(server) ||
    (server as { [INTERNAL_SERVER]?: true })[INTERNAL_SERVER] === true
  )
    return;
  try {
    trackRequest(req as http.IncomingMessage, res as http.ServerResponse, owner.getConfig().routeFor, undefined);
  } catch (err) {
    reportFailure('http-server:track', '@tuist-telemetry/http: could not track a served request', err);
  }
}

function patchProto(proto: Proto): void {
  const existing = proto[PATCH];
  if (existing !== undefined) {
    if (!Object.hasOwn(proto, 'emit') || proto.emit === existing.own) define(proto, existing.wrapper);
    return;
  }
  const own = Object.hasOwn(proto, 'emit') ? proto.emit : undefined;
  const parent = Object.getPrototypeOf(proto) as Proto;
  // Before the listeners run, so the duration includes the host's own (synchronous) request handler.
  const wrapper: Emit = function emit(this: object, ...args: unknown[]): boolean {
    if (args[0] === 'request' && active.length > 0) onRequest(this, args[1], args[2]);
    return (own ?? parent.emit).apply(this, args);
  };
  Object.defineProperty(proto, PATCH, { value: { wrapper, own } satisfies EmitPatch, configurable: true });
  define(proto, wrapper);
}

function define(proto: Proto, emit: Emit): void {
  Object.defineProperty(proto, 'emit', { value: emit, writable: true, configurable: true, enumerable: false });
}

/** Removes our `emit` when it is still on top; under someone else's wrapper it stays and passes through. */
function unpatchProto(proto: Proto): void {
  const p = proto[PATCH];
  if (p === undefined || !Object.hasOwn(proto, 'emit') || proto.emit !== p.wrapper) return;
  if (p.own !== undefined) define(proto, p.own);
  else delete (proto as { emit?: Emit }).emit;
}
