import type pg from 'pg';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { requireService, startPostgres } from '@tuist-telemetry/testing';

export interface PgSuite {
  readonly url: string;
  readonly telemetry: Telemetry;
  /** Ends the suite's pools still open (before PostgreSQL stops, so idle clients do not error), then the rest. */
  stop(): Promise<void>;
}

/**
 * PostgreSQL and telemetry on 127.0.0.1:0 for one suite (from its `before`); a missing PostgreSQL skips the suite
 * loudly outside CI and fails it under `CI=true`. `pools` is the suite's list of pools, ended by `stop()`.
 */
export async function startPgSuite(ctx: Mocha.Context, pools: readonly pg.Pool[]): Promise<PgSuite> {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  try {
    postgres = await startPostgres({ from: import.meta.url });
  } catch (err) {
    requireService(ctx, 'PostgreSQL', false, (err as Error).message);
    throw err;
  }
  const telemetry = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
  await telemetry.ready();
  return {
    url: postgres.url,
    telemetry,
    async stop() {
      await Promise.all(pools.filter((p) => !p.ending).map((p) => p.end()));
      await telemetry.shutdown();
      await postgres.stop();
    },
  };
}
