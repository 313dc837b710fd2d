import type { Socket } from 'node:net';
import type { HttpRecorder, RequestLabels } from './recorder.js';

/** One undici Client of an instrumented pool: it holds one connection at a time. */
export interface ConnectionState {
  /** The current socket, set when the connector established it. */
  socket: Socket | undefined;
  /** `performance.now()` when the last request on this connection ended; -1 while it has served none. */
  idleSince: number;
  /** The request assigned last (with one request per connection: the one a new connection is opened for). */
  current: RequestState | undefined;
}

/** What is known about one request, from dispatch to its end. Times are `performance.now()` values. */
export interface RequestState {
  /** Where to record; `undefined` for an ignored request (kept only for the connection's idle bookkeeping). */
  readonly recorder: HttpRecorder | undefined;
  readonly labels: RequestLabels;
  readonly start: number;
  conn: ConnectionState | undefined;
  sendStart: number;
  sendEnd: number;
  statusCode: number | undefined;
  done: boolean;
}
