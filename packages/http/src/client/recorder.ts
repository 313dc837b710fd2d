import {
  HistogramRef,
  counter,
  gauge,
  histogram,
  perTelemetry,
  type CounterFamily,
  type GaugeFamily,
  type HistogramFamily,
  type PendingCounts,
  type Telemetry,
} from '@tuist-telemetry/core/internal';
import type { Agent } from 'undici';
import { FinishRefs, PhaseRefs, type RequestLabelSet, type StatusLabels } from './label-sets.js';

/** An instrumented agent as the pool gauges see it. */
export interface PoolSource {
  readonly agent: WeakRef<Agent>;
  /** The `size` label: the agent's connection limit per origin. */
  readonly size: string;
  /** Origins that had at least one measured request (ignored-only origins stay out of the gauges). */
  readonly origins: Set<string>;
  /**
   * The recorder and origin `track` saw last: a repeat costs two comparisons instead of two Set lookups per request.
   * Reset when the pool gauges drop an origin or the source, so that the next request adds them again.
   */
  lastRecorder: HttpRecorder | undefined;
  lastOrigin: string | undefined;
}

/** The `tuist_http_*` families of one telemetry instance, and the pool gauges it reads at collection time. */
export class HttpRecorder {
  private readonly requestCount: CounterFamily;
  private readonly requestDuration: HistogramFamily;
  private readonly queueCount: CounterFamily;
  private readonly queueDuration: HistogramFamily;
  private readonly queueIdle: HistogramFamily;
  private readonly connectionCount: CounterFamily;
  private readonly connectionDuration: HistogramFamily;
  private readonly sendCount: CounterFamily;
  private readonly sendDuration: HistogramFamily;
  private readonly receiveCount: CounterFamily;
  private readonly receiveDuration: HistogramFamily;
  private readonly available: GaugeFamily;
  private readonly inUse: GaugeFamily;
  private readonly sources = new Set<PoolSource>();
  /** Where the four counters of a request rise until a collection (core's PendingCount). */
  private readonly counts: PendingCounts;

  constructor(telemetry: Telemetry) {
    const t = telemetry;
    this.counts = t.store.pendingCounts;
    this.requestCount = counter(t, 'tuist_http_request_count');
    this.requestDuration = histogram(t, 'tuist_http_request_duration_nanosecond');
    this.queueCount = counter(t, 'tuist_http_queue_count');
    this.queueDuration = histogram(t, 'tuist_http_queue_duration_nanoseconds');
    this.queueIdle = histogram(t, 'tuist_http_queue_idle_time_nanoseconds');
    this.connectionCount = counter(t, 'tuist_http_connection_count');
    this.connectionDuration = histogram(t, 'tuist_http_connection_duration_nanoseconds');
    this.sendCount = counter(t, 'tuist_http_send_count');
    this.sendDuration = histogram(t, 'tuist_http_send_duration_nanoseconds');
    this.receiveCount = counter(t, 'tuist_http_receive_count');
    this.receiveDuration = histogram(t, 'tuist_http_receive_duration_nanoseconds');
    this.available = gauge(t, 'tuist_http_queue_available_connections');
    this.inUse = gauge(t, 'tuist_http_queue_in_use_connections');
    const stop = t.store.onCollect(() => this.collectPools());
    telemetry.onShutdown(stop);
  }

  /** A connection was taken for a request after `queueMs`; it had been idle `idleMs` (0 for a new one). */
  queued(set: RequestLabelSet, queueMs: number, idleMs: number): void {
    const refs = this.phaseRefs(set);
    refs.queueCount.inc();
    refs.queueDuration.record(msToNs(queueMs));
    refs.queueIdle.record(msToNs(idleMs));
  }

  /** A TCP (and TLS) connection was established in `ms`. */
  connected(ms: number): void {
    this.connectionCount.add(1);
    this.connectionDuration.record(msToNs(ms));
  }

  /** The request (headers and body) was written in `ms`. */
  sent(set: RequestLabelSet, ms: number): void {
    const refs = this.phaseRefs(set);
    refs.sendCount.inc();
    refs.sendDuration.record(msToNs(ms));
  }

  /**
   * The request ended, with `statusCode` (undefined: no response, status `error`): `totalMs` since dispatch;
   * `receiveMs` since it was fully sent (< 0 when it never was).
   */
  finished(set: RequestLabelSet, statusCode: number | undefined, totalMs: number, receiveMs: number): void {
    const refs = this.finishRefs(set.status(statusCode));
    refs.requestCount.inc();
    refs.requestDuration.record(msToNs(totalMs));
    if (receiveMs >= 0) {
      refs.receiveCount.inc();
      refs.receiveDuration.record(msToNs(receiveMs));
    }
  }

  /** The queue and send series of `set` in this recorder (made again when another recorder recorded it last). */
  private phaseRefs(set: RequestLabelSet): PhaseRefs {
    const refs = set.refs;
    if (refs !== undefined && refs.recorder === this) return refs;
    const l = set.labels;
    return (set.refs = new PhaseRefs(
      this,
      this.counts.of(this.queueCount, l),
      new HistogramRef(this.queueDuration, l),
      new HistogramRef(this.queueIdle, l),
      this.counts.of(this.sendCount, l),
      new HistogramRef(this.sendDuration, l),
    ));
  }

  /** The request and receive series of `status` in this recorder. */
  private finishRefs(status: StatusLabels): FinishRefs {
    const refs = status.refs;
    if (refs !== undefined && refs.recorder === this) return refs;
    const { request, receive } = status;
    return (status.refs = new FinishRefs(
      this,
      this.counts.of(this.requestCount, request),
      new HistogramRef(this.requestDuration, request),
      this.counts.of(this.receiveCount, receive),
      new HistogramRef(this.receiveDuration, receive),
    ));
  }

  /** Includes `origin` of `source` in the pool gauges. */
  track(source: PoolSource, origin: string): void {
    if (source.lastRecorder === this && source.lastOrigin === origin) return;
    this.sources.add(source);
    source.origins.add(origin);
    source.lastRecorder = this;
    source.lastOrigin = origin;
  }

  /**
   * Sets the pool gauges from undici's own pool statistics. `index` numbers the pools of one origin (1, 2, ...)
   * across the instrumented agents, in the order they first recorded.
   */
  private collectPools(): void {
    this.available.clear();
    this.inUse.clear();
    const indexes = new Map<string, number>();
    for (const source of this.sources) {
      const agent = source.agent.deref();
      if (agent === undefined || agent.closed || agent.destroyed) {
        this.sources.delete(source);
        source.lastRecorder = undefined;
        continue;
      }
      const stats = agent.stats;
      for (const origin of source.origins) {
        const pool = stats[origin];
        if (pool === undefined) {
          // undici drops a pool once all its connections closed; a later request brings it back.
          source.origins.delete(origin);
          source.lastRecorder = undefined;
          continue;
        }
        const index = (indexes.get(origin) ?? 0) + 1;
        indexes.set(origin, index);
        // The instrumented agent always builds Pools (PoolStats); a bare Client's stats have no `free`.
        const connected = Number(pool.connected);
        const free = 'free' in pool ? pool.free : 0;
        const labels = { url: origin, size: source.size, index: String(index) };
        this.available.set(free, labels);
        this.inUse.set(Math.max(0, connected - free), labels);
      }
    }
  }
}

/** The recorder of a telemetry instance, created on first use. */
export const recorderFor = perTelemetry((t) => new HttpRecorder(t));

/** Milliseconds (from `performance.now()`) to whole nanoseconds, never negative. */
export function msToNs(ms: number): number {
  return ms > 0 ? Math.round(ms * 1e6) : 0;
}
