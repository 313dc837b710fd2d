import { Agent, Client, Pool, type Dispatcher, type buildConnector } from 'undici';
import { activeTelemetry, callHook, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core/internal';
import { clock, handlerFit, MeasuredRequest, type ConnectionState } from './measured-request.js';
import { recorderFor, type HttpRecorder, type PoolSource } from './recorder.js';
import { reportInternalError } from './report.js';
import type { IgnoreRequest, InstrumentedAgentOptions } from './types.js';
import { methodLabel, poolSizeLabel } from '../common/labels.js';
import type { RequestLabelSet } from './label-sets.js';
import { labelSetFor, parseOrigin, type Origin } from './origin.js';

/*
 * Why parts of this are hand-written rather than left to diagnostics channels:
 * - Queue time: a request waiting in a Pool's queue has no Request object yet (`request:create` fires when a client
 *   takes it), so the dispatch moment is stamped by the pool's `dispatch` (the agent calls it synchronously).
 * - Assignment and idle time: the moment a pool hands a request to one of its clients, and which client, is visible
 *   only by wrapping `Client.dispatch`; the pools are built by this agent's `factory` with such clients.
 * - Connection time: the connect channels carry fresh parameters on every event and all clients of a pool share
 *   one connector, so they cannot be matched to a client; each client gets its own timed connector instead.
 * The agent is a subclass rather than `agent.compose(interceptor)` so that callers get a real undici Agent
 * (`instanceof Agent`, `stats`, `close`) instead of a Proxy. The later phases come from the request's handler
 * callbacks: the pool queues a MeasuredRequest in place of the caller's handler (measured-request.ts says why not
 * channels, and what a request costs).
 */

type Connector = buildConnector.connector;

/**
 * The request a MeasuredPool is handing to one of its clients right now: undici's `Pool.dispatch` calls a free
 * client's `dispatch` synchronously, and such a request waited in no queue (its dispatch time is its queue end).
 */
let handingOver: MeasuredRequest | undefined;

class MeasuredClient extends Client {
  constructor(
    origin: URL,
    options: Client.Options,
    private readonly conn: ConnectionState,
  ) {
    super(origin, options);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    // The pool passes the MeasuredRequest it made in place of the caller's handler (see MeasuredPool).
    if (!(handler instanceof MeasuredRequest) || handler.takenAt >= 0) return super.dispatch(options, handler);
    const state = handler;
    try {
      taken(state, this.conn);
    } catch (err) {
      reportInternalError('queue', err);
    }
    if (!state.refused) return super.dispatch(options, state as unknown as Dispatcher.DispatchHandler);
    // undici refuses the caller's handler: it gets it as it is, no request is created, and it ends here as an error.
    try {
      return super.dispatch(options, state.handler as Dispatcher.DispatchHandler);
    } finally {
      state.end();
    }
  }
}

/** What the pools of one instrumented agent share: the agent's options and its entry in the pool gauges. */
interface AgentContext {
  readonly telemetry: Telemetry | undefined;
  readonly ignore: IgnoreRequest | undefined;
  readonly source: PoolSource;
  /** The recorder of the telemetry the previous request went to: one comparison instead of a WeakMap lookup. */
  lastTelemetry: Telemetry | undefined;
  lastRecorder: HttpRecorder | undefined;
}

/**
 * A pool of an instrumented agent (one per origin): it measures what is dispatched to it. A request travels through
 * the pool's queue and to a client as a MeasuredRequest, which stands in for the caller's handler
 * (measured-request.ts). The pool parses its origin once (the `request_host` label) and keeps the label sets of its
 * methods; undici's Agent hands it every request to that origin synchronously, so its dispatch time is the agent's.
 */
class MeasuredPool extends Pool {
  private readonly target: Origin | undefined;
  // The label set of the previous request's method: most requests of a pool share one.
  private lastMethod: unknown = undefined;
  private lastSet: RequestLabelSet | undefined = undefined;

  constructor(
    origin: string | URL,
    options: Pool.Options,
    private readonly agent: AgentContext,
  ) {
    super(origin, options);
    this.target = parseOrigin(origin);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let state: MeasuredRequest | undefined;
    try {
      state = this.measure(options, handler);
    } catch (err) {
      reportInternalError('dispatch', err);
    }
    if (state === undefined) return super.dispatch(options, handler);
    handingOver = state;
    try {
      return super.dispatch(options, state as unknown as Dispatcher.DispatchHandler);
    } finally {
      handingOver = undefined;
    }
  }

  /** The state of a request about to be dispatched; `undefined` when it is passed on unmeasured. */
  private measure(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): MeasuredRequest | undefined {
    const start = clock.now();
    const origin = this.target;
    if (origin === undefined || options === null || typeof options !== 'object') return undefined;
    const fit = handlerFit(handler, options);
    if (fit === 'pass') return undefined;
    const a = this.agent;
    const ignore = a.ignore;
    const ignored =
      ignore !== undefined &&
      callHook(
        'http:ignore',
        '@tuist-telemetry/http: the ignore option',
        () => ignore(origin.origin, String(options.path)) === true,
        false,
        a.telemetry,
      );
    let telemetry = ignored ? undefined : activeTelemetry(a.telemetry);
    // Traffic the SDK itself makes (PostHog's ingestion) is registered with the telemetry and never measured.
    if (telemetry?.isExcludedFromHttpMetrics(origin.origin, String(options.path))) telemetry = undefined;
    let recorder: HttpRecorder | undefined;
    if (telemetry !== undefined) {
      if (telemetry !== a.lastTelemetry) {
        a.lastRecorder = recorderFor(telemetry);
        a.lastTelemetry = telemetry;
      }
      recorder = a.lastRecorder;
      recorder!.track(a.source, origin.origin);
    }
    const method = options.method;
    let set = this.lastSet;
    if (method !== this.lastMethod || set === undefined) {
      set = this.lastSet = labelSetFor(origin, methodLabel(method));
      this.lastMethod = method;
    }
    const state = new MeasuredRequest(recorder, set, start);
    state.handler = handler as MeasuredRequest['handler'];
    state.refused = fit === 'reject';
    return state;
  }
}

/** The request was handed to a connection (a client): queue time and the connection's idle time. */
function taken(state: MeasuredRequest, conn: ConnectionState): void {
  // Handed over while its pool dispatched it: it waited in no queue, and the dispatch time is read again for nothing.
  const now = state === handingOver ? state.start : clock.now();
  state.takenAt = now;
  state.conn = conn;
  conn.current = state;
  const socket = conn.socket;
  const idle = socket !== undefined && !socket.destroyed && conn.idleSince >= 0 ? now - conn.idleSince : 0;
  state.recorder?.queued(state.set, now - state.start, idle);
}

/** Wraps a client's connector: times established connections and remembers the socket. */
function timedConnector(connect: Connector, conn: ConnectionState): Connector {
  return (options, callback) => {
    const start = clock.now();
    const forRequest = conn.current;
    connect(options, (...args) => {
      try {
        const [err, socket] = args;
        if (err === null && socket) {
          const now = clock.now();
          conn.socket = socket;
          conn.idleSince = -1;
          conn.connectedAt = now;
          forRequest?.recorder?.connected(now - start);
        }
      } catch (e) {
        reportInternalError('connect', e);
      }
      callback(...args);
    });
  };
}

function clientFactory(origin: URL, options: object): Dispatcher {
  const opts = options as Client.Options & { connect?: unknown };
  const conn: ConnectionState = { socket: undefined, idleSince: -1, connectedAt: -1, current: undefined };
  // Pool always passes a connector function (it builds one from `connect`/`tls` options when given none).
  const connect = typeof opts.connect === 'function' ? timedConnector(opts.connect as Connector, conn) : opts.connect;
  return new MeasuredClient(origin, { ...opts, connect } as Client.Options, conn);
}

class InstrumentedAgent extends Agent {
  constructor(options: Agent.Options, telemetry: Telemetry | undefined, ignore: IgnoreRequest | undefined) {
    const source: { -readonly [K in keyof PoolSource]: PoolSource[K] } = {
      agent: undefined as unknown as WeakRef<Agent>,
      size: poolSizeLabel(options.connections),
      origins: new Set(),
      lastRecorder: undefined,
      lastOrigin: undefined,
    };
    const context: AgentContext = { telemetry, ignore, source, lastTelemetry: undefined, lastRecorder: undefined };
    // Always a Pool (undici's default factory makes a bare Client for `connections: 1`): uniform stats for the gauges.
    const factory = (origin: string | URL, opts: object): Dispatcher =>
      new MeasuredPool(origin, { ...(opts as Pool.Options), factory: clientFactory }, context);
    super({ ...options, factory });
    source.agent = new WeakRef(this);
  }
}

function fail(message: string): never {
  throw new TelemetryConfigError(`@tuist-telemetry/http: ${message}`);
}

/** Checks the options (configuration mistakes throw here, at start-up) and splits them. */
export function splitOptions(
  options: InstrumentedAgentOptions | undefined,
  fn: string,
): {
  agentOptions: Agent.Options;
  telemetry: Telemetry | undefined;
  ignore: IgnoreRequest | undefined;
} {
  if (options === undefined || options === null) return { agentOptions: {}, telemetry: undefined, ignore: undefined };
  if (typeof options !== 'object') fail(`${fn}(options) takes an options object, got ${typeof options}`);
  const { telemetry, ignore, ...agentOptions } = options;
  if ('factory' in agentOptions && agentOptions.factory !== undefined) {
    fail(
      `${fn}: the "factory" option is not supported (the instrumentation builds the pools); remove it and pass pool options such as "connections" instead`,
    );
  }
  if (ignore !== undefined && typeof ignore !== 'function')
    fail(`${fn}: "ignore" must be a function (origin, path) => boolean, got ${typeof ignore}`);
  if (
    telemetry !== undefined &&
    (telemetry === null || typeof telemetry !== 'object' || typeof telemetry.store?.counter !== 'function')
  ) {
    fail(
      `${fn}: "telemetry" must be the value returned by startTelemetry(); leave it out to use the running telemetry`,
    );
  }
  const c = agentOptions.connections;
  if (c !== undefined && c !== null && !(typeof c === 'number' && Number.isInteger(c) && c >= 0)) {
    fail(`${fn}: "connections" must be a whole number >= 0 (0 or null: no limit), got ${String(c)}`);
  }
  return { agentOptions, telemetry, ignore };
}

/**
 * An undici Agent whose requests are measured phase by phase (queue, connection, send, receive, whole request)
 * into the `tuist_http_*` metrics, with its pools reported by the pool gauges. Pass it as `dispatcher`.
 */
export function createInstrumentedAgent(options?: InstrumentedAgentOptions): Agent {
  const { agentOptions, telemetry, ignore } = splitOptions(options, 'createInstrumentedAgent');
  return new InstrumentedAgent(agentOptions, telemetry, ignore);
}
