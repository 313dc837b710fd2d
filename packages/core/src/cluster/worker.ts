import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { RateLimitedLogger } from '../diag/index.js';
import type { MetricStore } from '../store/store.js';
import { isOurs, PROTOCOL, SnapshotEncoder, type Message } from './protocol.js';

/** How long `stop()` waits for the final snapshot to be handed to the channel. */
const FINAL_SEND_BOUND_MS = 1000;
/** A worker whose primary has not welcomed it by then warns that nobody serves its metrics. */
const WELCOME_BOUND_MS = 5000;

/**
 * The worker side of a `node:cluster` app: instead of binding a metrics port, the worker answers its primary's
 * collect requests with snapshots of its store, and on shutdown sends its final values once, so that what it
 * counted since the last scrape is kept too. Each agent is a new incarnation for the primary: one started after
 * `shutdown()` in the same worker numbers its series afresh, and the primary keeps what the earlier one counted.
 */
export class ClusterWorkerAgent {
  /** The agent of the telemetry started last: only it answers (two would describe their series under one id space). */
  private static current: ClusterWorkerAgent | undefined;

  private readonly encoder: SnapshotEncoder;
  /** The highest `known` a request carried: the primary knows at least these series when it gets a final snapshot. */
  private known = 0;
  private stopped = false;
  /** Tells this telemetry's series from those of an earlier one in the same worker (see `Hello`). */
  private readonly incarnation = randomUUID();
  private readonly welcomeTimer: NodeJS.Timeout;
  /** Puts `cluster.worker`'s own `disconnect` and `destroy` back. */
  private readonly unwrap: () => void;

  constructor(
    private readonly store: MetricStore,
    private readonly warnings: RateLimitedLogger,
    private readonly proc: NodeJS.Process = process,
    self: Worker | undefined = cluster.worker,
    /** How long to wait for the primary's welcome before warning (a test gives a short one). */
    welcomeMs: number = WELCOME_BOUND_MS,
    /** How long `stop()` waits for the final snapshot to be handed to the channel. */
    private readonly finalSendMs: number = FINAL_SEND_BOUND_MS,
  ) {
    this.encoder = new SnapshotEncoder(
      store,
      proc.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced',
      this.incarnation,
    );
    ClusterWorkerAgent.current = this;
    proc.on('message', this.onMessage);
    this.send({ tuistTelemetry: PROTOCOL, type: 'hello', incarnation: this.incarnation });
    this.welcomeTimer = setTimeout(() => {
      this.warnings.warn(
        'cluster-no-primary',
        '@tuist-telemetry/core: this node:cluster worker binds no metrics port, and its primary has not started ' +
          'telemetry, so nobody serves its metrics: call startTelemetry() in the primary too (same settings), or set ' +
          'TUIST_TELEMETRY_CLUSTER=off and give every worker its own OTEL_EXPORTER_PROMETHEUS_PORT',
      );
    }, welcomeMs);
    this.welcomeTimer.unref();
    // No hook on `process.disconnect()`: Node calls it itself when the channel ends (the primary is gone) and tears
    // the channel down right after; delaying that call broke Node's own teardown (ERR_INTERNAL_ASSERTION), and a
    // message written then could be cut off. A disconnect or kill the primary orders is preceded by a collect
    // request instead (see ClusterPrimary); one the worker makes itself, by its final snapshot here.
    this.unwrap = self === undefined ? () => {} : this.wrapSelf(self);
  }

  /**
   * `cluster.worker.disconnect()` and `cluster.worker.kill()`/`destroy()` in the worker send the final snapshot first.
   * Both then send Node's own goodbye to the primary and close the channel only once it is written; messages are
   * written in order, so the final snapshot is through by then.
   */
  private wrapSelf(self: Worker): () => void {
    const agent = this;
    const restores = (['disconnect', 'destroy'] as const).map((name) => {
      const original = self[name] as (this: Worker, ...args: unknown[]) => unknown;
      if (typeof original !== 'function') return () => {};
      const own = Object.hasOwn(self, name);
      const wrapped = function (this: Worker, ...args: unknown[]): unknown {
        if (this === self && !agent.stopped && ClusterWorkerAgent.current === agent && agent.proc.connected)
          agent.snapshot('final', -1, agent.known);
        return original.apply(this, args);
      };
      (self as unknown as Record<string, unknown>)[name] = wrapped;
      return () => {
        if ((self as unknown as Record<string, unknown>)[name] !== wrapped) return;
        if (own) (self as unknown as Record<string, unknown>)[name] = original;
        else delete (self as unknown as Record<string, unknown>)[name];
      };
    });
    return () => {
      for (const restore of restores) restore();
    };
  }

  private readonly onMessage = (msg: unknown): void => {
    if (this.stopped || ClusterWorkerAgent.current !== this || !isOurs(msg)) return;
    if (msg.type === 'welcome' || msg.type === 'collect') clearTimeout(this.welcomeTimer);
    if (msg.type === 'probe') this.send({ tuistTelemetry: PROTOCOL, type: 'hello', incarnation: this.incarnation });
    else if (msg.type === 'collect') {
      const known = Number.isSafeInteger(msg.known) && msg.known >= 0 ? msg.known : 0;
      this.known = Math.max(this.known, known);
      this.snapshot('snapshot', Number.isSafeInteger(msg.req) ? msg.req : -1, known);
    }
  };

  private snapshot(type: 'snapshot' | 'final', req: number, known: number, done?: () => void, last = false): void {
    let msg: Message;
    try {
      this.store.runCollectCallbacks();
      const snap = this.encoder.encode(type, req, known);
      msg = last ? { ...snap, last: true } : snap;
    } catch (err) {
      this.warnings.error(
        'cluster-encode',
        '@tuist-telemetry/core: could not build a snapshot for the cluster primary',
        err,
      );
      done?.();
      return;
    }
    this.send(msg, done);
  }

  private send(msg: Message, done?: () => void): void {
    const proc = this.proc;
    if (!proc.connected || typeof proc.send !== 'function') {
      done?.();
      return;
    }
    try {
      // With a callback a closed channel is reported here instead of as an 'error' event on `process`.
      proc.send(msg, undefined, undefined, () => done?.());
    } catch (err) {
      this.warnings.warn(
        'cluster-send',
        `@tuist-telemetry/core: could not send to the cluster primary (${String(err)})`,
      );
      done?.();
    }
  }

  /** Sends a final snapshot; `done` runs once it is handed to the channel (or after a bound). */
  private final(done: () => void): void {
    if (ClusterWorkerAgent.current !== this) return done();
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(once, this.finalSendMs);
    timer.unref();
    // Sent from stop() only: this telemetry answers nothing after it.
    this.snapshot('final', -1, this.known, once, true);
  }

  /** Sends the final snapshot (bounded wait) and stops answering. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.proc.off('message', this.onMessage);
    clearTimeout(this.welcomeTimer);
    this.unwrap();
    await new Promise<void>((resolve) => this.final(resolve));
  }
}
