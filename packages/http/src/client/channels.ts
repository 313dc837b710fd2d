import type { Socket } from 'node:net';
import { channelSubscription } from '@tuist-telemetry/core/internal';
import type { RequestState } from './internal-types.js';
import { reportInternalError } from './report.js';
import { statusLabel } from '../common/labels.js';

/*
 * The phases after a connection was assigned come from undici's diagnostics channels. Channels are global, so the
 * subscribers see every undici request in the process; only requests of an instrumented agent have a state here.
 *
 * A Request object cannot be tied to the dispatch that created it (it keeps its handler under a module-private
 * symbol), but it is created synchronously inside `Client.dispatch`, which the instrumented pools wrap: the state
 * of the request being handed to a client is parked in `parked` for exactly that call, and `request:create`
 * files it on the Request object, under a symbol private to this copy of the package (a property store and a load
 * per event instead of WeakMap traffic; undici never enumerates it).
 */

const STATE = Symbol('@tuist-telemetry/http.request');
let parked: RequestState | undefined;

interface RequestMessage {
  request: { [STATE]?: RequestState | undefined };
}
interface HeadersMessage extends RequestMessage {
  response: { statusCode: number };
}
interface SendHeadersMessage extends RequestMessage {
  socket: Socket;
}

function guarded<M>(kind: string, fn: (message: M) => void): (message: unknown) => void {
  return (message) => {
    try {
      fn(message as M);
    } catch (err) {
      reportInternalError(kind, err);
    }
  };
}

function onCreate({ request }: RequestMessage): void {
  const state = parked;
  if (state === undefined) return;
  parked = undefined;
  request[STATE] = state;
}

function onSendHeaders({ request }: SendHeadersMessage): void {
  const state = request[STATE];
  if (state !== undefined) state.sendStart = performance.now();
}

function endSend(state: RequestState, now: number): void {
  if (state.sendStart < 0 || state.sendEnd >= 0) return;
  state.sendEnd = now;
  state.recorder?.sent(state.labels, now - state.sendStart);
}

function onBodySent({ request }: RequestMessage): void {
  const state = request[STATE];
  if (state !== undefined) endSend(state, performance.now());
}

function onHeaders({ request, response }: HeadersMessage): void {
  const state = request[STATE];
  if (state === undefined) return;
  state.statusCode = response.statusCode;
  // A server may answer before the body was fully sent (e.g. 413): sending ends there. Usually it has ended already
  // (bodySent), and the clock is not read.
  if (state.sendStart >= 0 && state.sendEnd < 0) endSend(state, performance.now());
}

function onEnd({ request }: RequestMessage): void {
  const state = request[STATE];
  if (state === undefined) return;
  request[STATE] = undefined;
  finish(state, performance.now());
}

/** Records the end of a request (once): whole duration, and the receive phase when it was fully sent. */
export function finish(state: RequestState, now: number): void {
  if (state.done) return;
  state.done = true;
  const conn = state.conn;
  if (conn !== undefined) {
    conn.idleSince = now;
    if (conn.current === state) conn.current = undefined;
  }
  state.recorder?.finished(
    state.labels,
    statusLabel(state.statusCode),
    now - state.start,
    state.sendEnd >= 0 ? now - state.sendEnd : -1,
  );
}

/**
 * Parks `state` for the `request:create` that an undici `Client.dispatch` publishes; the caller runs that dispatch
 * right after and calls `assigned` in a `finally` (no closure per request).
 */
export function assigning(state: RequestState): void {
  parked = state;
}

/**
 * After the `Client.dispatch` of `assigning(state)`: when no Request was created (undici rejected the options and
 * reported the error to the caller's handler), the request ends here as an error.
 */
export function assigned(state: RequestState): void {
  if (parked !== state) return;
  parked = undefined;
  try {
    finish(state, performance.now());
  } catch (err) {
    reportInternalError('finish', err);
  }
}

/** undici's channels, subscribed while at least one holder (an instrumented agent, TuistUndiciInstrumentation) needs them. */
const undiciChannels = channelSubscription([
  ['undici:request:create', guarded('create', onCreate)],
  ['undici:client:sendHeaders', guarded('sendHeaders', onSendHeaders)],
  ['undici:request:bodySent', guarded('bodySent', onBodySent)],
  ['undici:request:headers', guarded('headers', onHeaders)],
  ['undici:request:trailers', guarded('trailers', onEnd)],
  ['undici:request:error', guarded('error', onEnd)],
]);

/**
 * Subscribes to undici's channels while at least one holder needs them (once per copy of this package, whatever
 * the number of holders). Returns the release function; releasing twice does nothing.
 */
export function subscribeChannels(): () => void {
  return undiciChannels.acquire();
}
