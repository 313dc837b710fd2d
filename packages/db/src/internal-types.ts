/** The parts of node-postgres the instrumentation touches, as it sees them at run time. Never exported. */

export type Callback = (this: unknown, ...args: unknown[]) => unknown;

export interface InternalClient {
  query: Callback;
}

export interface InternalPool {
  readonly waitingCount: number;
  readonly idleCount: number;
  readonly ending?: boolean;
  readonly ended?: boolean;
  readonly options?: { max?: number };
  connect: Callback;
  query: Callback;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A query object with its own `submit` (pg's `Query`, pg-cursor, pg-query-stream). */
export interface Submittable {
  submit: Callback;
  handleError?: Callback;
  handleReadyForQuery?: Callback;
}

export type Thenable = { then: (onOk: (v: unknown) => unknown, onError?: (e: unknown) => unknown) => unknown };
