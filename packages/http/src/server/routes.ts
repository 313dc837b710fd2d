import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { channelSubscription } from '@tuist-telemetry/core/internal';
import { expressTemplate } from './express.js';

/*
 * The `route` label without user code, from the frameworks' own routing results:
 * - Express puts the matched route on the request (`req.route.path`), but only the concrete mount path
 *   (`req.baseUrl`): the whole template comes from the `router` patch (express.ts, Express 5 with
 *   TuistHttpServerInstrumentation enabled before Express loads). Without it, a route under a mount path is not
 *   named (its `baseUrl` may hold parameter values): `routeFor`, else `unmatched`.
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

/**
 * Held here, not subscribed by name: Bun (1.4) keeps channels weakly, and a channel subscribed by name alone is
 * collected with its subscribers, so Fastify's channel, made later, has none.
 */
const fastifyStart = diagnosticsChannel.channel(FASTIFY_HANDLER_START);

/**
 * Bun's `TracingChannel` (1.4) has no `hasSubscribers`, and Fastify publishes only when it is true: the missing
 * getter is added with Node's meaning (any of the five channels has a subscriber). A runtime that has it is left alone.
 */
function addMissingHasSubscribers(): void {
  try {
    const proto = Object.getPrototypeOf(diagnosticsChannel.tracingChannel('tuist-telemetry.probe')) as object | null;
    if (proto === null || 'hasSubscribers' in proto) return;
    Object.defineProperty(proto, 'hasSubscribers', {
      configurable: true,
      get(
        this: Record<'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error', { hasSubscribers?: boolean } | undefined>,
      ): boolean {
        return [this.start, this.end, this.asyncStart, this.asyncEnd, this.error].some(
          (c) => c?.hasSubscribers === true,
        );
      },
    });
  } catch {
    // no tracing channels here: Fastify's routes stay unnamed
  }
}

const fastifyRouting = channelSubscription([[fastifyStart, onFastifyHandler]], addMissingHasSubscribers);

/** Listens to Fastify's routing while at least one holder needs it; returns the release function. */
export function subscribeFrameworkRoutes(): () => void {
  return fastifyRouting.acquire();
}

interface ExpressRequest {
  baseUrl?: unknown;
  route?: { path?: unknown };
}

/** The route template a framework matched for `req`; `undefined` when none did (or no framework is in use). */
export function frameworkRoute(req: IncomingMessage): string | undefined {
  const template = expressTemplate(req);
  if (template !== undefined) return template === false ? undefined : template;
  const express = req as IncomingMessage & ExpressRequest;
  const path = express.route?.path;
  if (typeof path === 'string') {
    // Not seen by the router patch: only a route of the top-level router is known to be a template.
    const base = typeof express.baseUrl === 'string' ? express.baseUrl : '';
    return base === '' ? path || '/' : undefined;
  }
  return fastifyRoutes.get(req);
}
