import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { IncomingMessage } from 'node:http';
import type { Telemetry } from '@tuist-telemetry/core';

export interface InstrumentHttpServerOptions {
  /**
   * The route template of a request (e.g. `/api/projects/:id`) when no framework matched one (Express and Fastify
   * routes are found on their own), called when the response finishes; `undefined`, `''` or a throw means
   * `unmatched`. Default: such requests are `unmatched` (the raw path is never used as a label).
   */
  routeFor?: (req: IncomingMessage) => string | undefined;
  /** The telemetry to record into; default the running one (`getTelemetry()`), looked up for every request. */
  telemetry?: Telemetry;
}

/** Configuration of `TuistHttpServerInstrumentation`. Every option is optional. */
export interface TuistHttpServerInstrumentationConfig extends InstrumentationConfig {
  /** As `instrumentHttpServer`'s `routeFor`: the route of requests no framework matched. Default: `unmatched`. */
  routeFor?: (req: IncomingMessage) => string | undefined;
}
