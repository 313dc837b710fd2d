import {
  activeTelemetry,
  HistogramRef,
  counter,
  histogram,
  perTelemetry,
  type CounterFamily,
  type HistogramFamily,
  type Labels,
  type PendingCount,
  type PendingCounts,
  type Telemetry,
} from '@tuist-telemetry/core/internal';
import { PoolGauges, type PoolSeries } from './gauges.js';

export type QueryResult = 'ok' | 'error';

/** The query series of one result label: kept series (core's refs), so a query's recordings skip the label lookup. */
class QuerySeries {
  readonly count: PendingCount;
  readonly total: HistogramRef;
  readonly queue: HistogramRef;
  readonly query: HistogramRef;
  constructor(
    r: { queries: CounterFamily; totalTime: HistogramFamily; queueTime: HistogramFamily; queryTime: HistogramFamily },
    labels: Labels,
    counts: PendingCounts,
  ) {
    this.count = counts.of(r.queries, labels);
    this.total = new HistogramRef(r.totalTime, labels);
    this.queue = new HistogramRef(r.queueTime, labels);
    this.query = new HistogramRef(r.queryTime, labels);
  }
}

/** Records one pool's counters and query timings, with the pool's `repo` label resolved once. */
export class PoolRecorder {
  private readonly connected: CounterFamily;
  private readonly disconnected: CounterFamily;
  readonly queries: CounterFamily;
  readonly totalTime: HistogramFamily;
  readonly queueTime: HistogramFamily;
  readonly queryTime: HistogramFamily;
  private readonly poolLabels: Labels;
  private readonly ok: QuerySeries;
  private readonly error: QuerySeries;

  constructor(telemetry: Telemetry, name: string | undefined) {
    this.connected = counter(telemetry, 'tuist_repo_pool_db_connection_connected');
    this.disconnected = counter(telemetry, 'tuist_repo_pool_db_connection_disconnected');
    this.queries = counter(telemetry, 'tuist_repo_query_count');
    this.totalTime = histogram(telemetry, 'tuist_repo_query_total_time_milliseconds');
    this.queueTime = histogram(telemetry, 'tuist_repo_query_queue_time_milliseconds');
    this.queryTime = histogram(telemetry, 'tuist_repo_query_query_time_milliseconds');
    this.poolLabels = Object.freeze({ repo: name });
    const counts = telemetry.store.pendingCounts;
    this.ok = new QuerySeries(this, Object.freeze({ result: 'ok', repo: name }), counts);
    this.error = new QuerySeries(this, Object.freeze({ result: 'error', repo: name }), counts);
    // The pool's connection counters exist from the start, at 0, so rate() works from the first scrape.
    this.connected.add(0, this.poolLabels);
    this.disconnected.add(0, this.poolLabels);
  }

  connectionOpened(): void {
    this.connected.add(1, this.poolLabels);
  }

  connectionClosed(): void {
    this.disconnected.add(1, this.poolLabels);
  }

  /**
   * One finished query. `queueMs` is the wait for a connection when the query was the first on its checkout
   * (`pool.query` always is); `queryMs` is undefined when the query never reached a connection.
   */
  query(result: QueryResult, queueMs: number | undefined, queryMs: number | undefined): void {
    const s = result === 'ok' ? this.ok : this.error;
    s.count.inc();
    if (queueMs !== undefined) s.queue.record(queueMs);
    if (queryMs !== undefined) s.query.record(queryMs);
    s.total.record((queueMs ?? 0) + (queryMs ?? 0));
  }
}

/**
 * Which series a pool records into. Kept on the pool (under a `Symbol.for` key) and read at every recording, so an
 * explicit `instrumentPgPool` on a pool the Instrumentation found first changes its name and telemetry in place.
 */
export interface PoolBinding extends PoolSeries {
  /** The last recorder looked up, with the telemetry it belongs to. */
  cache: { telemetry: object; recorder: PoolRecorder } | undefined;
}

/** The recorders of one telemetry by pool name ('' for none); creating them also starts that telemetry's gauges. */
const recordersOf = perTelemetry((t) => {
  PoolGauges.of(t);
  return new Map<string, PoolRecorder>();
});

/**
 * Where a pool records now: the binding's telemetry, else the running one (core's `activeTelemetry` rule); the last
 * answer is kept on the binding, so the common case costs one comparison. `undefined` when nothing is running.
 */
export function recorderFor(binding: PoolBinding): PoolRecorder | undefined {
  // Pools found by TuistPgInstrumentation stop recording while it is disabled.
  if (binding.foundBy?.any === false) return undefined;
  const t = activeTelemetry(binding.telemetry);
  if (t === undefined) return undefined;
  const cached = binding.cache;
  if (cached !== undefined && cached.telemetry === t) return cached.recorder;
  const byName = recordersOf(t);
  const key = binding.name ?? '';
  let recorder = byName.get(key);
  if (recorder === undefined) {
    recorder = new PoolRecorder(t, binding.name);
    byName.set(key, recorder);
  }
  binding.cache = { telemetry: t, recorder };
  return recorder;
}
