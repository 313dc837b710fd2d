import cluster, { type Worker } from 'node:cluster';
import type { RateLimitedLogger } from '../diag/index.js';
import type { CounterFamily, MetricStore, StoreOptions } from '../store/store.js';
import { ClusterView } from './view.js';
import { isOurs, PROTOCOL, WorkerSnapshots, type Message } from './protocol.js';

export interface ClusterPrimaryOptions {
  /** How long a scrape waits for each worker's snapshot (and `worker.disconnect()`/`kill()` for its last one). */
  timeoutMs: number;
  warnings: RateLimitedLogger;
  /** The options of the primary's own store (the cluster view is built alike). */
  storeOptions: StoreOptions;
  /** How often to collect between scrapes (default SNAPSHOT_INTERVAL_MS). */
  snapshotIntervalMs?: number;
}

/**
 * How often the primary asks every worker for a snapshot between scrapes: a worker that dies without a word (SIGKILL,
 * a crash) loses at most what it counted since its last answer, so about this long.
 */
export const SNAPSHOT_INTERVAL_MS = 5000;

/** Request numbers, unique in the process (so that two telemetries' primaries never take each other's answers). */
let nextReq = 0;

interface Entry {
  readonly worker: Worker;
  /** The worker's telemetry that answers now (see `Hello`); its snapshots are `snapshots`. */
  incarnation: string | undefined;
  snapshots: WorkerSnapshots;
  /** Collect requests waiting for their answer, by request number. */
  readonly pending: Map<number, () => void>;
  /** Puts the worker's own `disconnect`, `kill` and `destroy` back. */
  readonly unwrap: () => void;
}

/**
 * The primary side of a `node:cluster` app: serves one coherent /metrics for every process. A scrape asks every
 * worker that runs telemetry for a snapshot (in parallel, each bounded by `timeoutMs`), then builds the cluster view
 * from the primary's own store, each worker's last good snapshot and what exited workers left behind. A worker that
 * does not answer in time, or answers with something malformed, is served with its previous values and counted in
 * `tuist_telemetry_cluster_scrape_missed_total`. Without workers a scrape serves the own store as before.
 *
 * What a worker counted is kept when it goes: `worker.disconnect()` and `worker.kill()` (and `cluster.disconnect()`)
 * first collect a last snapshot (waiting at most `timeoutMs`), a worker that shuts telemetry down sends one (and is
 * asked nothing more, though its process may live on), and every `SNAPSHOT_INTERVAL_MS` the primary collects from
 * every worker, which bounds what a SIGKILL can lose.
 */
export class ClusterPrimary {
  private readonly entries = new Map<number, Entry>();
  private readonly view: ClusterView;
  private readonly missed: CounterFamily;
  /** Scrapes of the view run one at a time (it is rebuilt in place). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Started with the first worker (a process without workers runs no timer). */
  private refresher: NodeJS.Timeout | undefined;

  constructor(
    private readonly own: MetricStore,
    private readonly opts: ClusterPrimaryOptions,
  ) {
    this.view = new ClusterView(
      own.families.map((f) => f.def),
      opts.storeOptions,
    );
    this.missed = own.counter('tuist_telemetry_cluster_scrape_missed_total');
    cluster.on('message', this.onMessage);
    cluster.on('disconnect', this.onDisconnect);
    // Workers forked before this primary started telemetry said hello to nobody: ask them again.
    for (const w of Object.values(cluster.workers ?? {}))
      if (w?.isConnected()) this.trySend(w, { tuistTelemetry: PROTOCOL, type: 'probe' });
  }

  /** The workers that run telemetry and are connected. */
  get workerCount(): number {
    return this.entries.size;
  }

  private entry(worker: Worker): Entry {
    let e = this.entries.get(worker.id);
    if (e === undefined) {
      const pending = new Map<number, () => void>();
      e = {
        worker,
        incarnation: undefined,
        snapshots: new WorkerSnapshots(),
        pending,
        unwrap: this.wrapWorker(worker),
      };
      this.entries.set(worker.id, e);
      if (this.refresher === undefined) {
        this.refresher = setInterval(this.refresh, this.opts.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS);
        this.refresher.unref();
      }
    }
    return e;
  }

  /**
   * `worker.disconnect()` (which `cluster.disconnect()` calls) and `worker.kill()`/`worker.destroy()` (a signal to the
   * worker) first collect the worker's last snapshot, then do what they always do. The wait is bounded by
   * `timeoutMs`; `exitedAfterDisconnect` is set at once, as Node's `disconnect()` does, so the app's 'disconnect' and
   * 'exit' handlers see what they would. Returns what puts the worker's own methods back.
   */
  private wrapWorker(worker: Worker): () => void {
    const primary = this;
    // Set while an original runs: Node's kill() calls destroy(), which must not wait a second time.
    let inner = false;
    const restores = (['disconnect', 'kill', 'destroy'] as const).map((name) => {
      const original = worker[name] as (this: Worker, ...args: unknown[]) => unknown;
      if (typeof original !== 'function') return () => {};
      const own = Object.hasOwn(worker, name);
      const run = (args: unknown[]) => {
        inner = true;
        try {
          return original.apply(worker, args);
        } finally {
          inner = false;
        }
      };
      const wrapped = function (this: Worker, ...args: unknown[]): unknown {
        const e = primary.entries.get(worker.id);
        if (inner || this !== worker || e?.worker !== worker || primary.closed || !worker.isConnected())
          return original.apply(this, args);
        if (name === 'disconnect') worker.exitedAfterDisconnect = true;
        void primary.ask(e, false).then(() => {
          // A worker that went meanwhile needs no disconnect; a signal still goes to its process.
          if (name !== 'disconnect' || worker.isConnected()) run(args);
        });
        return name === 'disconnect' ? worker : undefined;
      };
      (worker as unknown as Record<string, unknown>)[name] = wrapped;
      return () => {
        if ((worker as unknown as Record<string, unknown>)[name] !== wrapped) return;
        if (own) (worker as unknown as Record<string, unknown>)[name] = original;
        else delete (worker as unknown as Record<string, unknown>)[name];
      };
    });
    return () => {
      for (const restore of restores) restore();
    };
  }

  private readonly onMessage = (worker: Worker, msg: unknown): void => {
    if (this.closed || !isOurs(msg)) return;
    if (msg.type === 'hello') {
      if (!worker.isConnected()) return;
      const e = this.entry(worker);
      if (msg.incarnation !== e.incarnation) {
        // Another telemetry in this worker (started after a shutdown): it numbers its series afresh. What the earlier
        // one counted stays in the sum, as for an exited worker.
        if (e.incarnation !== undefined || e.snapshots.last !== undefined) {
          this.view.retire(e.snapshots);
          e.snapshots = new WorkerSnapshots();
        }
        // Requests sent before told what the primary knew of the old one: their answers are not taken.
        for (const done of [...e.pending.values()]) done();
        e.incarnation = typeof msg.incarnation === 'string' ? msg.incarnation : undefined;
      }
      this.trySend(worker, { tuistTelemetry: PROTOCOL, type: 'welcome' });
      return;
    }
    if (msg.type !== 'snapshot' && msg.type !== 'final') return;
    // Only snapshots of a worker that said hello, from its current telemetry, answering this primary's own requests
    // (another telemetry in this process asks with its own numbers; a reply that comes after its scrape gave up is
    // not needed: the next scrape asks again), and final snapshots.
    const e = this.entries.get(worker.id);
    if (e === undefined || e.worker !== worker || (msg.incarnation !== undefined && msg.incarnation !== e.incarnation))
      return;
    const done = msg.type === 'snapshot' ? e.pending.get(msg.req) : undefined;
    if (msg.type === 'snapshot' && done === undefined) return;
    let problem: string | undefined;
    try {
      problem = e.snapshots.apply(msg, this.view.familyOf, this.view.retireSeries);
    } catch (err) {
      problem = String(err);
    }
    if (problem !== undefined) {
      this.missed.add(1, { reason: 'malformed' });
      this.opts.warnings.warn(
        'cluster-malformed',
        `@tuist-telemetry/core: dropped a malformed snapshot from cluster worker ${worker.id} (${problem}); its previous values were served`,
      );
    }
    done?.();
    // The last snapshot of a telemetry that shut down: it answers nothing more, though its process may live on for a
    // while (draining its requests after a SIGTERM), so retire it now rather than have every scrape wait the timeout
    // for it (a new telemetry in that worker says hello again); a malformed one too (its previous values stand). A
    // final snapshot read after the channel closed (should the disconnect come first): retire the worker now too.
    if (msg.type === 'final' && (msg.last === true || !worker.isConnected())) this.onDisconnect(worker);
  };

  /**
   * A worker that disconnected, or whose telemetry shut down (its final snapshot marked `last`), sends nothing more:
   * its counts become part of every later scrape.
   */
  private readonly onDisconnect = (worker: Worker): void => {
    const e = this.entries.get(worker.id);
    if (e === undefined || e.worker !== worker) return;
    this.entries.delete(worker.id);
    e.unwrap();
    this.view.retire(e.snapshots);
    for (const done of [...e.pending.values()]) done();
  };

  private trySend(worker: Worker, msg: Message, onError?: () => void): void {
    try {
      worker.send(msg, undefined, undefined, (err) => {
        if (err) onError?.();
      });
    } catch {
      onError?.();
    }
  }

  /** Asks one worker for a snapshot; resolves once it is taken, the worker is gone, or after `timeoutMs`. */
  private ask(e: Entry, scrape: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const req = ++nextReq;
      const timer = setTimeout(() => {
        if (!e.pending.delete(req)) return;
        resolve();
        if (!scrape) return;
        this.missed.add(1, { reason: 'timeout' });
        this.opts.warnings.warn(
          'cluster-timeout',
          `@tuist-telemetry/core: cluster worker ${e.worker.id} did not send its snapshot within ${this.opts.timeoutMs} ms ` +
            '(TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS); its previous values were served',
        );
      }, this.opts.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        e.pending.delete(req);
        resolve();
      };
      e.pending.set(req, done);
      if (!e.worker.isConnected()) return done();
      this.trySend(e.worker, { tuistTelemetry: PROTOCOL, type: 'collect', req, known: e.snapshots.known }, done);
    });
  }

  /** Between scrapes: a snapshot of every worker that is not answering one already (see SNAPSHOT_INTERVAL_MS). */
  private readonly refresh = (): void => {
    if (this.closed) return;
    for (const e of this.entries.values()) if (e.pending.size === 0) void this.ask(e, false);
  };

  /** The body of a scrape: `serialize` of the own store alone, or of the cluster view once workers took part. */
  render<T>(serialize: (store: MetricStore) => Promise<T>): Promise<T> {
    if (this.entries.size === 0 && !this.view.hasRetired) return serialize(this.own);
    const run = this.queue.then(async () => {
      // After close() (telemetry shut down) the last snapshots stand; nobody would hear the answers.
      if (!this.closed) await Promise.all([...this.entries.values()].map((e) => this.ask(e, true)));
      const live = [...this.entries.values()].map((e) => ({ id: String(e.worker.id), snapshots: e.snapshots }));
      return serialize(this.view.build(this.own, live));
    });
    this.queue = run.catch(() => {});
    return run;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresher);
    cluster.off('message', this.onMessage);
    cluster.off('disconnect', this.onDisconnect);
    for (const e of this.entries.values()) {
      e.unwrap();
      for (const done of [...e.pending.values()]) done();
    }
  }
}
