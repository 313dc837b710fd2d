import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import {
  activeTelemetry,
  callHook,
  counter,
  histogram,
  perTelemetry,
  reportFailure,
  type Telemetry,
} from '@tuist-telemetry/core/internal';
import { ABORTED_STATUS, methodLabel } from '../common/labels.js';
import { frameworkRoute, subscribeFrameworkRoutes } from './routes.js';
import type { InstrumentHttpServerOptions } from './types.js';

/** The `route` label of requests no framework and no `routeFor` named. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Servers `instrumentHttpServer` took (TuistHttpServerInstrumentation leaves them to it). */
const instrumented = new WeakSet<object>();
/** Responses being tracked: a request is recorded once, whoever saw it first. */
const tracked = new WeakSet<object>();

const familiesOf = perTelemetry((t) => ({
  requests: counter(t, 'tuist_http_server_requests_total'),
  duration: histogram(t, 'tuist_http_server_request_duration_milliseconds'),
}));

export type RouteFor = (req: IncomingMessage) => string | undefined;

/** The framework's route, else `routeFor`'s (a throw or an empty answer: none), else `unmatched`. */
function routeOf(t: Telemetry, req: IncomingMessage, routeFor: RouteFor | undefined): string {
  const matched = frameworkRoute(req);
  if (matched !== undefined) return matched;
  if (routeFor === undefined) return UNMATCHED_ROUTE;
  const r = callHook('http-server-route-for', '@tuist-telemetry/http: routeFor', () => routeFor(req), undefined, t);
  return typeof r === 'string' && r !== '' ? r : UNMATCHED_ROUTE;
}

/** Records one served request (the runtimes' own servers, `Bun.serve` and `Deno.serve`: see native.ts). */
export function recordServed(
  t: Telemetry,
  method: string | undefined,
  route: string,
  status: string,
  start: number,
): void {
  try {
    const labels = { method: methodLabel(method), route, status };
    const f = familiesOf(t);
    f.requests.add(1, labels);
    f.duration.record(performance.now() - start, labels);
  } catch (err) {
    reportFailure('http-server:record', '@tuist-telemetry/http: could not record a served request', err, t);
  }
}

/** Whether `instrumentHttpServer` took this server. */
export function isInstrumentedServer(server: object): boolean {
  return instrumented.has(server);
}

/**
 * Starts timing one request; records it once when its response finishes (or closes first: `aborted`). The
 * telemetry is core's `activeTelemetry` rule, looked up when the request arrives.
 */
export function trackRequest(
  req: IncomingMessage,
  res: ServerResponse,
  routeFor: RouteFor | undefined,
  explicit: Telemetry | undefined,
): void {
  if (tracked.has(res)) return;
  const t = activeTelemetry(explicit);
  if (t === undefined) return;
  tracked.add(res);
  const start = performance.now();
  let done = false;
  const record = (status: string): void => {
    if (done) return;
    done = true;
    try {
      const labels = { method: methodLabel(req.method), route: routeOf(t, req, routeFor), status };
      const f = familiesOf(t);
      f.requests.add(1, labels);
      f.duration.record(performance.now() - start, labels);
    } catch (err) {
      reportFailure('http-server:record', '@tuist-telemetry/http: could not record a served request', err, t);
    }
  };
  res.on('finish', () => record(String(res.statusCode)));
  res.on('close', () => record(res.writableFinished ? String(res.statusCode) : ABORTED_STATUS));
}

/**
 * Records `tuist_http_server_requests_total{method, route, status}` and
 * `tuist_http_server_request_duration_milliseconds` for every request a `node:http` (or `node:https`) server
 * handles, Express and Fastify servers included. `route` is the template the framework matched (Express, Fastify),
 * else what `routeFor` returns, else `unmatched`; never the raw path. Each request is recorded once, when its
 * response finishes (`status` = the status code sent) or, if the connection closes first, with `status="aborted"`.
 * Calling it again for the same server does nothing (the first options stay). Returns the server.
 */
export function instrumentHttpServer<S extends Server | HttpsServer>(
  server: S,
  options: InstrumentHttpServerOptions = {},
): S {
  if (
    server === null ||
    typeof server !== 'object' ||
    typeof (server as { prependListener?: unknown }).prependListener !== 'function'
  ) {
    throw new TypeError(
      'instrumentHttpServer(server): pass the node:http Server (e.g. the value of app.listen() or http.createServer())',
    );
  }
  if (options === null || typeof options !== 'object')
    throw new TypeError('instrumentHttpServer(server, options): options must be an object');
  const { routeFor, telemetry } = options;
  if (routeFor !== undefined && typeof routeFor !== 'function') {
    throw new TypeError(
      'instrumentHttpServer: options.routeFor must be a function (req) => route template | undefined',
    );
  }
  if (instrumented.has(server)) return server;
  instrumented.add(server);
  const release = subscribeFrameworkRoutes();
  (server as Server).once('close', release);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      trackRequest(req, res, routeFor, telemetry);
    } catch (err) {
      reportFailure('http-server:track', '@tuist-telemetry/http: could not track a served request', err, telemetry);
    }
  };
  // First in line, so the duration includes the host's own (synchronous) request handler.
  (server as Server).prependListener('request', onRequest);
  return server;
}
