import cluster, { type Worker } from 'node:cluster';
import type { WarnOnce } from '../diag.js';
import type { CounterFamily, MetricStore, StoreOptions } from '../store.js';
import { ClusterView } from './merge.js';
import { isOurs, PROTOCOL, WorkerSnapshots, type Message } from './protocol.js';

export interface ClusterPrimaryOptions {
  /** How long a scrape waits for each worker's snapshot. */
  timeoutMs: number;
  warnings: WarnOnce;
  /** The options of the primary's own store (the cluster view is built alike). */
  storeOptions: StoreOptions;
}

/** Request numbers, unique in the process (so that two telemetries' primaries never take each other's answers). */
let nextReq = 0;

interface Entry {
  readonly worker: Worker;
  readonly snapshots: WorkerSnapshots;
  /** Collect requests waiting for their answer, by request number. */
  readonly pending: Map<number, () => void>;
}

/**
 * The primary side of a `node:cluster` app: serves one coherent /metrics for every process. A scrape asks every
 * worker that runs telemetry for a snapshot (in parallel, each bounded by `timeoutMs`), then builds the cluster view
 * from the primary's own store, each worker's last good snapshot and what exited workers left behind. A worker that
 * does not answer in time, or answers with something malformed, is served with its previous values and counted in
 * `tuist_telemetry_cluster_scrape_missed_total`. Without workers a scrape serves the own store as before.
 */
export class ClusterPrimary {
  private readonly entries = new Map<number, Entry>();
  private readonly view: ClusterView;
  private readonly missed: CounterFamily;
  /** Scrapes of the view run one at a time (it is rebuilt in place). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

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
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) this.trySend(w, { tuistTelemetry: PROTOCOL, type: 'probe' });
  }

  /** The workers that run telemetry and are connected. */
  get workerCount(): number {
    return this.entries.size;
  }

  private entry(worker: Worker): Entry {
    let e = this.entries.get(worker.id);
    if (e === undefined) {
      e = { worker, snapshots: new WorkerSnapshots(), pending: new Map() };
      this.entries.set(worker.id, e);
    }
    return e;
  }

  private readonly onMessage = (worker: Worker, msg: unknown): void => {
    if (this.closed || !isOurs(msg)) return;
    if (msg.type === 'hello') {
      if (!worker.isConnected()) return;
      this.entry(worker);
      this.trySend(worker, { tuistTelemetry: PROTOCOL, type: 'welcome' });
      return;
    }
    if (msg.type !== 'snapshot' && msg.type !== 'final') return;
    const e = this.entry(worker);
    // Only answers to this primary's own requests (another telemetry in this process asks with its own numbers; a
    // reply that comes after its scrape gave up is not needed: the next scrape asks again) and final snapshots.
    const done = msg.type === 'snapshot' ? e.pending.get(msg.req) : undefined;
    if (msg.type === 'snapshot' && done === undefined) return;
    let problem: string | undefined;
    try {
      problem = e.snapshots.apply(msg, this.view.familyOf);
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
    // A final snapshot read after the channel closed (should the disconnect come first): retire the worker now.
    if (msg.type === 'final' && !worker.isConnected()) this.onDisconnect(worker);
  };

  /** A worker that disconnected can send nothing more: its counts become part of every later scrape. */
  private readonly onDisconnect = (worker: Worker): void => {
    const e = this.entries.get(worker.id);
    if (e === undefined) return;
    this.entries.delete(worker.id);
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

  private ask(e: Entry): Promise<void> {
    return new Promise<void>((resolve) => {
      const req = ++nextReq;
      const timer = setTimeout(() => {
        if (!e.pending.delete(req)) return;
        this.missed.add(1, { reason: 'timeout' });
        this.opts.warnings.warn(
          'cluster-timeout',
          `@tuist-telemetry/core: cluster worker ${e.worker.id} did not send its snapshot within ${this.opts.timeoutMs} ms ` +
            '(TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS); its previous values were served',
        );
        resolve();
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

  /** The body of a scrape: `serialize` of the own store alone, or of the cluster view once workers took part. */
  render(serialize: (store: MetricStore) => Promise<Buffer>): Promise<Buffer> {
    if (this.entries.size === 0 && !this.view.hasRetired) return serialize(this.own);
    const run = this.queue.then(async () => {
      // After close() (telemetry shut down) the last snapshots stand; nobody would hear the answers.
      if (!this.closed) await Promise.all([...this.entries.values()].map((e) => this.ask(e)));
      const live = [...this.entries.values()].map((e) => ({ id: String(e.worker.id), snapshots: e.snapshots }));
      return serialize(this.view.build(this.own, live));
    });
    this.queue = run.catch(() => {});
    return run;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    cluster.off('message', this.onMessage);
    cluster.off('disconnect', this.onDisconnect);
    for (const e of this.entries.values()) for (const done of [...e.pending.values()]) done();
  }
}
