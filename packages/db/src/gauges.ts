import {
  activeTelemetry,
  gauge,
  perTelemetry,
  type GaugeFamily,
  type InstrumentationRegistry,
  type Telemetry,
} from '@tuist-telemetry/core/internal';
import type { InternalPool } from './internal-types.js';

/** Where a pool's gauges go: what of its binding (recorder.ts) the gauges read. */
export interface PoolSeries {
  /** The `repo` label; `undefined`: none. */
  name: string | undefined;
  /** The telemetry given explicitly; `undefined`: the running one at each collection. */
  telemetry: Telemetry | undefined;
  /**
   * The enabled instances of `TuistPgInstrumentation` when it found the pool (the pool is left out while none is
   * enabled); `undefined` for a pool `instrumentPgPool` took.
   */
  foundBy: InstrumentationRegistry<object> | undefined;
}

interface Totals {
  waiting: number;
  idle: number;
  size: number;
}

interface Entry {
  readonly pool: WeakRef<InternalPool>;
  readonly binding: PoolSeries;
}

/** Every instrumented pool of the process (weakly held); each telemetry's gauges read the pools that record into it. */
const entries = new Set<Entry>();

/** Adds an instrumented pool; returns how many live pools already record under the same name into the same place. */
export function registerPool(pool: InternalPool, binding: PoolSeries): number {
  let sharing = 0;
  for (const e of entries) {
    const other = e.pool.deref();
    if (!isLive(other)) entries.delete(e);
    else if (e.binding.name === binding.name && e.binding.telemetry === binding.telemetry) sharing++;
  }
  entries.add({ pool: new WeakRef(pool), binding });
  return sharing;
}

/**
 * The pool gauges of one telemetry instance, read from the pools at collection time. Pools that share a name
 * (or have none) are added together; a pool that ended or was garbage-collected drops out.
 */
export class PoolGauges {
  /** The gauges of `telemetry`, registering the collection callback on first use. */
  static readonly of = perTelemetry((t) => new PoolGauges(t));

  private readonly queue: GaugeFamily;
  private readonly ready: GaugeFamily;
  private readonly size: GaugeFamily;
  /** Names this telemetry reported at the last collection. */
  private reported = new Set<string>();

  private constructor(private readonly telemetry: Telemetry) {
    this.queue = gauge(telemetry, 'tuist_repo_pool_checkout_queue_length');
    this.ready = gauge(telemetry, 'tuist_repo_pool_ready_conn_count');
    this.size = gauge(telemetry, 'tuist_repo_pool_size');
    telemetry.store.onCollect(() => this.collect());
  }

  private collect(): void {
    const totals = new Map<string, Totals>();
    for (const e of entries) {
      const pool = e.pool.deref();
      if (!isLive(pool)) {
        entries.delete(e);
        continue;
      }
      if (e.binding.foundBy?.any === false) continue; // TuistPgInstrumentation is disabled
      if (activeTelemetry(e.binding.telemetry) !== this.telemetry) continue;
      const name = e.binding.name ?? '';
      let sum = totals.get(name);
      if (sum === undefined) totals.set(name, (sum = { waiting: 0, idle: 0, size: 0 }));
      sum.waiting += count(pool.waitingCount);
      sum.idle += count(pool.idleCount);
      sum.size += count(pool.options?.max);
    }
    for (const name of this.reported) {
      if (totals.has(name)) continue;
      const labels = { repo: name };
      if (name === '') {
        // The unlabelled series exist from start-up; they stay, at 0.
        this.queue.set(0, labels);
        this.ready.set(0, labels);
        this.size.set(0, labels);
      } else {
        this.queue.remove(labels);
        this.ready.remove(labels);
        this.size.remove(labels);
      }
    }
    for (const [name, sum] of totals) {
      const labels = { repo: name };
      this.queue.set(sum.waiting, labels);
      this.ready.set(sum.idle, labels);
      this.size.set(sum.size, labels);
    }
    this.reported = new Set(totals.keys());
  }
}

function isLive(pool: InternalPool | undefined): pool is InternalPool {
  return pool !== undefined && pool.ended !== true;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
