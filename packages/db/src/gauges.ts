import type { GaugeFamily, Telemetry } from '@tuist-telemetry/core';
import type { InternalPool } from './internal-types.js';

interface Totals {
  waiting: number;
  idle: number;
  size: number;
}

/**
 * The pool gauges of one telemetry instance, read from the pools at collection time. Pools that share a name
 * (or have none) are added together; a pool that ended or was garbage-collected drops out.
 */
export class PoolGauges {
  private static readonly byTelemetry = new WeakMap<Telemetry, PoolGauges>();

  /** The gauges of `telemetry`, registering the collection callback on first use. */
  static of(telemetry: Telemetry): PoolGauges {
    let gauges = PoolGauges.byTelemetry.get(telemetry);
    if (!gauges) {
      gauges = new PoolGauges(telemetry);
      PoolGauges.byTelemetry.set(telemetry, gauges);
    }
    return gauges;
  }

  private readonly pools = new Map<string, Set<WeakRef<InternalPool>>>();
  private readonly queue: GaugeFamily;
  private readonly ready: GaugeFamily;
  private readonly size: GaugeFamily;

  private constructor(telemetry: Telemetry) {
    this.queue = telemetry.store.gauge('tuist_repo_pool_checkout_queue_length');
    this.ready = telemetry.store.gauge('tuist_repo_pool_ready_conn_count');
    this.size = telemetry.store.gauge('tuist_repo_pool_size');
    telemetry.store.onCollect(() => this.collect());
  }

  /** Adds a pool under `name` ('' for none); returns how many live pools already had that name. */
  add(name: string, pool: InternalPool): number {
    let set = this.pools.get(name);
    if (!set) this.pools.set(name, (set = new Set()));
    let live = 0;
    for (const ref of set) if (isLive(ref.deref())) live++;
    set.add(new WeakRef(pool));
    return live;
  }

  private collect(): void {
    for (const [name, set] of this.pools) {
      const totals: Totals = { waiting: 0, idle: 0, size: 0 };
      for (const ref of set) {
        const pool = ref.deref();
        if (!isLive(pool)) {
          set.delete(ref);
          continue;
        }
        totals.waiting += count(pool.waitingCount);
        totals.idle += count(pool.idleCount);
        totals.size += count(pool.options?.max);
      }
      const labels = { repo: name };
      if (set.size === 0) {
        this.pools.delete(name);
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
        continue;
      }
      this.queue.set(totals.waiting, labels);
      this.ready.set(totals.idle, labels);
      this.size.set(totals.size, labels);
    }
  }
}

function isLive(pool: InternalPool | undefined): pool is InternalPool {
  return pool !== undefined && pool.ended !== true;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
