/** The parts of node-postgres the instrumentation touches, as it sees them at run time. Never exported. */
import type { Telemetry } from '@tuist-telemetry/core/internal';
import type { PoolRecorder } from './recorder.js';

export type Callback = (this: unknown, ...args: unknown[]) => unknown;

export interface InternalClient {
  query: Callback;
}

export interface InternalPool {
  readonly waitingCount: number;
  readonly idleCount: number;
  readonly ending?: boolean;
  readonly ended?: boolean;
  readonly options?: { max?: number };
  connect: Callback;
  query: Callback;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A query object with its own `submit` (pg's `Query`, pg-cursor, pg-query-stream). */
export interface Submittable {
  submit: Callback;
  handleError?: Callback;
  handleReadyForQuery?: Callback;
}

export type Thenable = { then: (onOk: (v: unknown) => unknown, onError?: (e: unknown) => unknown) => unknown };

/**
 * Which series a pool records into. Kept on the pool (under a `Symbol.for` key) and read at every recording, so an
 * explicit `instrumentPgPool` on a pool the Instrumentation found first changes its name and telemetry in place.
 */
export interface PoolBinding {
  name: string | undefined;
  /** The telemetry given explicitly; `undefined`: the running one at each recording. */
  telemetry: Telemetry | undefined;
  /** True while the binding comes from `TuistPgInstrumentation` (an explicit `instrumentPgPool` takes it over). */
  auto: boolean;
  /** The last recorder looked up, with the telemetry it belongs to. */
  cache: { telemetry: object; recorder: PoolRecorder } | undefined;
}
