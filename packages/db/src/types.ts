import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Telemetry } from '@tuist-telemetry/core';

/** Options of `instrumentPgPool`. Every option is optional. */
export interface InstrumentPgPoolOptions {
  /**
   * Tells this pool's series apart: every series of the pool carries `repo="<name>"`. Leave it out when the
   * process has one pool (the documented series then carry no label). Default: no label.
   */
  name?: string;
  /** The telemetry instance to record into. Default: the running one (`getTelemetry()`). */
  telemetry?: Telemetry;
}

/**
 * What `instrumentPgPool` needs from a pool: node-postgres's `Pool` (pg 8 / pg-pool 3) has it. Kept structural
 * so the public types do not depend on `@types/pg`.
 */
export interface PgPool {
  readonly waitingCount: number;
  readonly idleCount: number;
  readonly totalCount: number;
  connect(...args: never[]): unknown;
  query(...args: never[]): unknown;
  on(event: 'connect' | 'remove', listener: (client: never) => void): unknown;
}

/** Configuration of `TuistPgInstrumentation`. Every option is optional. */
export interface TuistPgInstrumentationConfig extends InstrumentationConfig {
  /**
   * The `repo` label of a pool, asked once per pool when it is first used (e.g. `(pool) => pool.options.database`).
   * `undefined` or `''`: no label. A hook that throws counts as `undefined` (with one warning). Default: no label.
   */
  poolName?: (pool: PgPool & { readonly options?: Readonly<Record<string, unknown>> }) => string | undefined;
}
