import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Agent } from 'undici';
import type { Telemetry } from '@tuist-telemetry/core';

/**
 * Decides whether a request is left out of the metrics (e.g. the PostHog endpoint). `origin` is the request's
 * origin (`https://eu.i.posthog.com`), `path` its path with the query string (`/batch/?ip=0`).
 */
export type IgnoreRequest = (origin: string, path: string) => boolean;

/** What the instrumentation adds to undici's own Agent options. */
export interface InstrumentationOptions {
  /** The telemetry to record into. Default: the running one (`getTelemetry()`), looked up at each request. */
  telemetry?: Telemetry;
  /** Requests for which this returns `true` are not measured. Default: every request is measured. */
  ignore?: IgnoreRequest;
}

/**
 * Options of `createInstrumentedAgent` and `instrumentUndici`: undici's Agent options (`connections`,
 * `keepAliveTimeout`, `headersTimeout`, `connect`, ...) plus the instrumentation's own. `factory` is not accepted:
 * the instrumentation provides the pools.
 */
export interface InstrumentedAgentOptions extends Omit<Agent.Options, 'factory'>, InstrumentationOptions {}

/** Removes the instrumented global dispatcher again and restores the one installed before. */
export type Uninstall = () => void;

/**
 * Configuration of `TuistUndiciInstrumentation`: what `instrumentUndici` takes (`ignore`, `telemetry`, and undici
 * Agent options such as `connections`), plus OpenTelemetry's `enabled`. Every option is optional.
 */
export interface TuistUndiciInstrumentationConfig extends InstrumentationConfig, InstrumentedAgentOptions {}
