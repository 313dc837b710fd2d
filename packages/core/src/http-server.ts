import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import { logger } from './diag.js';
import type { CounterFamily, HistogramFamily } from './store.js';
import { getTelemetry, type Telemetry } from './telemetry.js';

export interface InstrumentHttpServerOptions {
  /**
   * The route template of a request (e.g. `/api/projects/:id`), called when the response finishes (so a
   * framework's routing result is available); `undefined`, `''` or a throw means `unmatched`. Default: every
   * request is `unmatched` (the raw path is never used as a label).
   */
  routeFor?: (req: IncomingMessage) => string | undefined;
  /** The telemetry to record into; default the running one (`getTelemetry()`), looked up for every request. */
  telemetry?: Telemetry;
}

/** The `route` label of requests `routeFor` did not name. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The `status` label of requests whose response did not finish (the client went away or the socket was destroyed). */
export const ABORTED_STATUS = 'aborted';
/** The `method` label of methods outside the standard set. */
export const OTHER_METHOD = '_OTHER';

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

interface Families {
  requests: CounterFamily;
  duration: HistogramFamily;
}

const log = logger('core');
const instrumented = new WeakSet<object>();
const familiesByTelemetry = new WeakMap<Telemetry, Families>();

function familiesOf(t: Telemetry): Families {
  let f = familiesByTelemetry.get(t);
  if (f === undefined) {
    f = {
      requests: t.store.counter('tuist_http_server_requests_total'),
      duration: t.store.histogram('tuist_http_server_request_duration_milliseconds'),
    };
    familiesByTelemetry.set(t, f);
  }
  return f;
}

/** The `method` label: a standard HTTP method as sent, anything else `_OTHER` (bounded cardinality). */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : OTHER_METHOD;
}

/**
 * Records `tuist_http_server_requests_total{method, route, status}` and
 * `tuist_http_server_request_duration_milliseconds` for every request a `node:http` (or `node:https`) server
 * handles, Express and Fastify servers included. Each request is recorded once, when its response finishes
 * (`status` = the status code sent) or, if the connection closes first, with `status="aborted"`. Calling it again
 * for the same server does nothing (the first options stay). Returns the server.
 */
export function instrumentHttpServer<S extends Server | HttpsServer>(server: S, options: InstrumentHttpServerOptions = {}): S {
  if (server === null || typeof server !== 'object' || typeof (server as { prependListener?: unknown }).prependListener !== 'function') {
    throw new TypeError('instrumentHttpServer(server): pass the node:http Server (e.g. the value of app.listen() or http.createServer())');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('instrumentHttpServer(server, options): options must be an object');
  const { routeFor, telemetry } = options;
  if (routeFor !== undefined && typeof routeFor !== 'function') {
    throw new TypeError('instrumentHttpServer: options.routeFor must be a function (req) => route template | undefined');
  }
  if (instrumented.has(server)) return server;
  instrumented.add(server);

  let warnedRouteFor = false;
  const routeOf = (t: Telemetry, req: IncomingMessage): string => {
    if (routeFor === undefined) return UNMATCHED_ROUTE;
    try {
      const r = routeFor(req);
      return typeof r === 'string' && r !== '' ? r : UNMATCHED_ROUTE;
    } catch (err) {
      if (!warnedRouteFor) {
        warnedRouteFor = true;
        t.warnings.warn('http-server-route-for', `instrumentHttpServer: routeFor threw (${String(err)}); such requests are recorded as route "${UNMATCHED_ROUTE}"`);
      }
      return UNMATCHED_ROUTE;
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const t = telemetry ?? getTelemetry();
      if (t === undefined) return;
      const start = performance.now();
      let done = false;
      const record = (status: string): void => {
        if (done) return;
        done = true;
        try {
          const labels = { method: methodLabel(req.method), route: routeOf(t, req), status };
          const f = familiesOf(t);
          f.requests.add(1, labels);
          f.duration.record(performance.now() - start, labels);
        } catch (err) {
          log.warn('instrumentHttpServer: could not record a request', err);
        }
      };
      res.on('finish', () => record(String(res.statusCode)));
      res.on('close', () => record(res.writableFinished ? String(res.statusCode) : ABORTED_STATUS));
    } catch (err) {
      log.warn('instrumentHttpServer: could not track a request', err);
    }
  };
  // First in line, so the duration includes the host's own (synchronous) request handler.
  (server as Server).prependListener('request', onRequest);
  return server;
}
