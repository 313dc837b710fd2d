import type { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import {
  InstrumentationRegistry,
  patchMethods,
  reportFailure,
  TuistInstrumentationBase,
  unpatchMethods,
  type Method,
  type PatchedModule,
} from '@tuist-telemetry/core/internal';
import { findRouter, patchRouter, unpatchRouter, type RouterTarget } from './express.js';
import { isInstrumentedServer, trackRequest } from './http-server.js';
import { patchNativeServe } from './native.js';
import { subscribeFrameworkRoutes } from './routes.js';
import type { TuistHttpServerInstrumentationConfig } from './types.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** On `http.Server.prototype` / `https.Server.prototype`; `Symbol.for` so two copies of this package patch once. */
const PATCH = Symbol.for('@tuist-telemetry/http.TuistHttpServerInstrumentation');

/** Marks the servers of the SDK itself (core's Prometheus endpoint): their requests are not the host's traffic. */
const INTERNAL_SERVER = Symbol.for('@tuist-telemetry/core.internalServer');

/** The enabled instances, first one first (its `routeFor` is used). */
const enabled = new InstrumentationRegistry<TuistHttpServerInstrumentation>();
const isActive = (): boolean => enabled.any;

/** The `router` package (Express 5's router): route templates through mounted routers (see express.ts). */
const router: PatchedModule<RouterTarget> = {
  name: 'router',
  majors: [2, 2],
  supported: "router 2.x, Express 5's, is",
  lost: 'routes under mount paths are not named',
  find: (exports) => findRouter(routerOf(exports)),
  unrecognised: (version) =>
    `router${version ? ` ${version}` : ''} does not look like router 2.x; routes under mount paths are not named`,
  patch(exports, target) {
    patchRouter(target, isActive);
    return exports;
  },
  unpatch(_exports, target) {
    unpatchRouter(target);
  },
};

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
export class TuistHttpServerInstrumentation extends TuistInstrumentationBase<TuistHttpServerInstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'http';
  readonly shortName = TuistHttpServerInstrumentation.shortName;
  declare private release: (() => void) | undefined;

  constructor(config: TuistHttpServerInstrumentationConfig = {}) {
    super('@tuist-telemetry/http/server', VERSION, config);
  }

  protected get registry(): InstrumentationRegistry<TuistHttpServerInstrumentation> {
    return enabled;
  }

  protected get lost(): string {
    return 'servers are not instrumented';
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [this.moduleDefinition(router)];
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

  protected override onEnable(): void {
    this.release = subscribeFrameworkRoutes();
    for (const proto of protos()) patchMethods(proto, PATCH, { emit: wrapEmit });
    patchNativeServe(isActive); // Bun.serve, Deno.serve
  }

  protected override onDisable(last: boolean): void {
    const release = this.release;
    this.release = undefined;
    release?.();
    if (last) for (const proto of protos()) unpatchMethods(proto, PATCH);
  }
}

/** The `router` module: the Router function itself (CJS), or under `default` (an ESM namespace). */
function routerOf(exports: unknown): unknown {
  return typeof exports === 'function' ? exports : (exports as { default?: unknown } | undefined)?.default;
}

function protos(): object[] {
  return [http.Server.prototype, https.Server.prototype];
}

function onRequest(server: object, req: unknown, res: unknown): void {
  const owner = enabled.first;
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

/** An own `emit` on the server prototypes, run before the listeners so the duration includes the host's handler. */
function wrapEmit(next: () => Method): Method {
  return function emit(this: unknown, ...args: unknown[]): unknown {
    if (args[0] === 'request' && enabled.any) onRequest(this as object, args[1], args[2]);
    return next().apply(this, args);
  };
}
