import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

/*
 * The `route` label without user code, from the frameworks' own routing results:
 * - Express (4 and 5) puts the matched route on the request (`req.route.path`, under the router's `req.baseUrl`).
 * - Fastify (4.x late, 5) publishes each routed request on the `tracing:fastify.request.handler` channel with its
 *   route template; the raw request is remembered here until the response is recorded.
 */

const FASTIFY_HANDLER_START = 'tracing:fastify.request.handler:start';

/** Raw request → Fastify's route template. */
const fastifyRoutes = new WeakMap<object, string>();

interface FastifyHandlerStore {
  request?: { raw?: object };
  route?: { url?: unknown };
}

function onFastifyHandler(message: unknown): void {
  try {
    const store = message as FastifyHandlerStore;
    const raw = store.request?.raw;
    const url = store.route?.url;
    if (typeof raw === 'object' && raw !== null && typeof url === 'string' && url !== '') fastifyRoutes.set(raw, url);
  } catch {
    // a message of another shape: no route
  }
}

let holders = 0;

/** Listens to Fastify's routing while at least one holder needs it; returns the release function. */
export function subscribeFrameworkRoutes(): () => void {
  if (holders++ === 0) diagnosticsChannel.subscribe(FASTIFY_HANDLER_START, onFastifyHandler);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0) diagnosticsChannel.unsubscribe(FASTIFY_HANDLER_START, onFastifyHandler);
  };
}

interface ExpressRequest {
  baseUrl?: unknown;
  route?: { path?: unknown };
}

/** The route template a framework matched for `req`; `undefined` when none did (or no framework is in use). */
export function frameworkRoute(req: IncomingMessage): string | undefined {
  const express = req as IncomingMessage & ExpressRequest;
  const path = express.route?.path;
  if (typeof path === 'string') {
    const base = typeof express.baseUrl === 'string' ? express.baseUrl : '';
    const route = base + path;
    return route === '' ? '/' : route;
  }
  return fastifyRoutes.get(req);
}
