// The in-process channel of the cluster agent tests (worker-agent.test.ts, worker-self.test.ts): the worker's `process`
// carries each message as Node's IPC does (JSON text, or a structured clone under `serialization: 'advanced'`) to a
// primary side made of the real WorkerSnapshots and ClusterView.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { expect } from 'chai';
import { catalog } from '@tuist-telemetry/core/internal';
import { ClusterView } from '../../src/cluster/view.js';
import { PROTOCOL, WorkerSnapshots, type Message, type Snapshot } from '../../src/cluster/protocol.js';
import { STORE_OPTIONS, newStore, valueIn } from './index.js';

/** The labels of the runs the agent tests record. */
export const AGENT_RUN = { name: 'agent', is_ci: 'false', status: '0' };
/** The marker of every protocol message. */
export const OURS = { tuistTelemetry: PROTOCOL } as const;

/** The worker's `process`: what it sends reaches `got` as the primary would read it; `tell` is the primary speaking. */
export class Channel extends EventEmitter {
  connected = true;
  readonly env: Record<string, string>;
  readonly got: Message[] = [];
  /** While set, the channel never reports a message written (a send callback that never comes). */
  stuck = false;
  constructor(readonly advanced = false) {
    super();
    this.env = advanced ? { NODE_CHANNEL_SERIALIZATION_MODE: 'advanced' } : {};
  }
  send(msg: unknown, _handle: unknown, _opts: unknown, cb?: (err: Error | null) => void): boolean {
    this.got.push((this.advanced ? structuredClone(msg) : JSON.parse(JSON.stringify(msg))) as Message);
    if (!this.stuck) setImmediate(() => cb?.(null));
    return true;
  }
  tell(msg: object): void {
    this.emit('message', JSON.parse(JSON.stringify(msg)));
  }
  of(type: Message['type']): Message[] {
    return this.got.filter((m) => m.type === type);
  }
  get proc(): NodeJS.Process {
    return this as unknown as NodeJS.Process;
  }
}

/** The primary's side of one worker: the real decoder and view. */
export class PrimarySide {
  readonly snaps = new WorkerSnapshots();
  readonly view = new ClusterView(catalog, STORE_OPTIONS);
  take(msg: Message): void {
    expect(msg.type).to.be.oneOf(['snapshot', 'final']);
    expect(this.snaps.apply(msg as Snapshot, this.view.familyOf, this.view.retireSeries)).to.equal(undefined);
  }
  runs(): number | undefined {
    return valueIn(this.view.build(newStore(), [{ id: '1', snapshots: this.snaps }]), 'tuist_runs_total', AGENT_RUN);
  }
}

/** A worker's `cluster.worker`: `disconnect` and `destroy` from its class (as Node's), or its own with `own`. */
export class Self {
  readonly calls: string[] = [];
  constructor(readonly ch: Channel) {}
  disconnect(): this {
    this.calls.push(`disconnect after ${this.ch.got.length}`);
    return this;
  }
  destroy(): void {
    this.calls.push(`destroy after ${this.ch.got.length}`);
  }
  get worker(): Worker {
    return this as unknown as Worker;
  }
}

/** How many timers keep this process alive now. */
export const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
