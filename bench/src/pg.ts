import { createRequire } from 'node:module';
import type pgTypes from 'pg';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import type { Driver } from './undici.js';
import { nowNs } from './utils.js';

export type PgImpl = 'plain' | 'instrumented' | 'instrumentation' | 'stock-instr';

const require = createRequire(import.meta.url);

type InstrumentPgPool = (pool: pgTypes.Pool, options?: { name?: string; telemetry?: Telemetry }) => pgTypes.Pool;

/** `instrumentPgPool` once `@tuist-telemetry/db` exports it (imported by a variable: it may not exist yet). */
export async function loadInstrumentPgPool(): Promise<InstrumentPgPool | undefined> {
  const spec = '@tuist-telemetry/db';
  try {
    const m = (await import(spec)) as { instrumentPgPool?: InstrumentPgPool };
    return typeof m.instrumentPgPool === 'function' ? m.instrumentPgPool : undefined;
  } catch {
    return undefined;
  }
}

async function drive(pool: pgTypes.Pool, total: number, concurrency: number): Promise<void> {
  let left = total;
  const worker = async () => {
    while (left-- > 0) await pool.query('SELECT 1');
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Case 5: `SELECT 1` per second through a pg Pool (PostgreSQL from BENCH_PG_URL), with and without
 * `instrumentPgPool`. Telemetry runs in both variants: only the instrumentation differs. Warmed up with `warmup`
 * queries.
 */
export async function openPg(impl: PgImpl, concurrency: number, warmup: number): Promise<Driver> {
  const url = process.env.BENCH_PG_URL;
  if (!url) throw new Error('BENCH_PG_URL is not set (the bench runner starts PostgreSQL and sets it)');
  const t = startTelemetry({
    prometheus: { port: 0, host: '127.0.0.1' },
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
  });
  // Instrumentations patch pg when it is loaded: enable them first, then load pg.
  let instrumentation: { disable(): void } | undefined;
  if (impl === 'instrumentation') {
    const { TuistPgInstrumentation } = await import('@tuist-telemetry/db');
    instrumentation = new TuistPgInstrumentation({ poolName: () => 'bench' });
  } else if (impl === 'stock-instr') {
    // @opentelemetry/instrumentation-pg with its metrics on (db.client.* on the telemetry's MeterProvider), no
    // TracerProvider: what it costs as a metrics source.
    const { PgInstrumentation } = await import('@opentelemetry/instrumentation-pg');
    const stock = new PgInstrumentation();
    stock.setMeterProvider(t.meterProvider);
    instrumentation = stock;
  }
  const pg = require('pg') as typeof pgTypes;
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  const close = async () => {
    instrumentation?.disable();
    await pool.end();
    await t.shutdown();
  };
  try {
    if (impl === 'instrumented') {
      const instrument = await loadInstrumentPgPool();
      if (!instrument) throw new Error('@tuist-telemetry/db does not export instrumentPgPool yet');
      instrument(pool, { name: 'bench', telemetry: t });
    }
    await drive(pool, warmup, concurrency);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async block(queries) {
      const t0 = nowNs();
      const cpu0 = process.cpuUsage();
      await drive(pool, queries, concurrency);
      const cpu = process.cpuUsage(cpu0);
      // Client CPU per query: the instrumentation's cost without PostgreSQL's share of the 2 cores.
      return { qps: queries / ((nowNs() - t0) / 1e9), cpuUs: (cpu.user + cpu.system) / queries };
    },
    close,
  };
}

/** Case 5 in one go (the smoke run): a tenth of `queries` as warm-up, then `queries` timed. */
export async function pgCase(impl: PgImpl, queries: number, concurrency: number): Promise<Record<string, number>> {
  const d = await openPg(impl, concurrency, Math.ceil(queries / 10));
  try {
    return await d.block(queries);
  } finally {
    await d.close();
  }
}
