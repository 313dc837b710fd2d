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
 * of the request being handed to a client is parked in `assigning` for exactly that call, and `request:create`
 * files it under the Request object.
 */

const requests = new WeakMap<object, RequestState>();
let assigning: RequestState | undefined;

interface RequestMessage {
  request: object;
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
  const state = assigning;
  if (state === undefined) return;
  assigning = undefined;
  requests.set(request, state);
}

function onSendHeaders({ request }: SendHeadersMessage): void {
  const state = requests.get(request);
  if (state !== undefined) state.sendStart = performance.now();
}

function endSend(state: RequestState, now: number): void {
  if (state.sendStart < 0 || state.sendEnd >= 0) return;
  state.sendEnd = now;
  state.recorder?.sent(state.labels, now - state.sendStart);
}

function onBodySent({ request }: RequestMessage): void {
  const state = requests.get(request);
  if (state !== undefined) endSend(state, performance.now());
}

function onHeaders({ request, response }: HeadersMessage): void {
  const state = requests.get(request);
  if (state === undefined) return;
  state.statusCode = response.statusCode;
  // A server may answer before the body was fully sent (e.g. 413): sending ends there.
  endSend(state, performance.now());
}

function onEnd({ request }: RequestMessage): void {
  const state = requests.get(request);
  if (state === undefined) return;
  requests.delete(request);
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
 * Runs `dispatch` (an undici `Client.dispatch`) with `state` parked for `request:create`. When no Request was created
 * (undici rejected the options and reported the error to the caller's handler), the request ends here as an error.
 */
export function assign<T>(state: RequestState, dispatch: () => T): T {
  assigning = state;
  try {
    return dispatch();
  } finally {
    if (assigning === state) {
      assigning = undefined;
      try {
        finish(state, performance.now());
      } catch (err) {
        reportInternalError('finish', err);
      }
    }
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
