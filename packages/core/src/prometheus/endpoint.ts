import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTENT_TYPE } from './format.js';

export interface EndpointLimits {
  /** A response not fully written this long after its first byte is aborted (its socket destroyed). */
  writeTimeoutMs: number;
  /** A connection with no traffic in either direction for this long is closed (a reader that stopped reading too). */
  idleTimeoutMs: number;
  /** Scrapes served at once (waiting for the body or still being written); more get 503 with `Retry-After`. */
  maxConcurrentScrapes: number;
}

export interface EndpointOptions extends EndpointLimits {
  host: string | undefined;
  port: number;
  /** Listen on the port alone even in a cluster worker (instead of sharing the primary's socket). */
  exclusive?: boolean;
  /**
   * Builds the exposition body (its UTF-8 bytes); called once per GET or HEAD (HEAD builds it too, for an honest
   * Content-Length). Concurrent calls are expected to share one body (see `singleFlight`).
   */
  render: () => Promise<Buffer>;
  onRenderError: (err: unknown) => void;
}

/** Seconds a client told 503 should wait. */
const RETRY_AFTER_S = 1;

/**
 * `GET /metrics` (and HEAD) in the Prometheus text format. Other paths answer 404, other methods 405.
 * The server is unref'd: it never keeps the host process alive on its own.
 *
 * A client cannot exhaust the host through it: scrapes in progress are capped (`maxConcurrentScrapes`, extras get
 * 503), a response that is not written within `writeTimeoutMs` is aborted, an idle or stalled connection is
 * closed after `idleTimeoutMs`, and concurrent scrapes share one rendered body (the render function is
 * single-flight), so the memory held by stalled readers does not grow with their number.
 */
export class MetricsEndpoint {
  private readonly server: http.Server;
  readonly listening: Promise<AddressInfo>;
  private active = 0;

  constructor(private readonly opts: EndpointOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Scrapes are not the host's traffic: TuistHttpServerInstrumentation (@tuist-telemetry/http) skips servers so marked.
    Object.defineProperty(this.server, Symbol.for('@tuist-telemetry/core.internalServer'), { value: true });
    this.server.keepAliveTimeout = Math.min(5000, opts.idleTimeoutMs);
    // Socket inactivity (no bytes read or written): with no 'timeout' listener Node destroys the socket.
    this.server.timeout = opts.idleTimeoutMs;
    this.server.headersTimeout = Math.min(60_000, opts.idleTimeoutMs);
    this.server.requestTimeout = Math.min(300_000, Math.max(opts.idleTimeoutMs, opts.writeTimeoutMs));
    this.listening = new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const where = `${opts.host ?? '0.0.0.0'}:${opts.port}`;
        const hint =
          err.code === 'EADDRINUSE'
            ? `port ${opts.port} is already in use; set OTEL_EXPORTER_PROMETHEUS_PORT (or options.prometheus.port) to a free port`
            : `${err.message}; check OTEL_EXPORTER_PROMETHEUS_HOST and OTEL_EXPORTER_PROMETHEUS_PORT`;
        const e = new Error(`@tuist-telemetry/core: the Prometheus endpoint cannot listen on ${where}: ${hint}`, { cause: err });
        reject(e);
      };
      this.server.once('error', onError);
      this.server.listen({ port: opts.port, host: opts.host, exclusive: opts.exclusive ?? false }, () => {
        this.server.off('error', onError);
        this.server.on('error', () => {});
        resolve(this.server.address() as AddressInfo);
      });
    });
    this.server.unref();
  }

  /** Scrapes in progress (waiting for the body or being written). */
  get scrapesInFlight(): number {
    return this.active;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    if (this.active >= this.opts.maxConcurrentScrapes) {
      res
        .writeHead(503, { 'Retry-After': String(RETRY_AFTER_S), 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Too many scrapes in progress; retry later\n');
      return;
    }
    this.active++;
    res.once('close', () => this.active--);
    let body: Buffer;
    try {
      body = await this.opts.render();
    } catch (err) {
      this.opts.onRenderError(err);
      if (!res.destroyed) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Error while collecting metrics\n');
      return;
    }
    if (res.destroyed) return;
    // The deadline for the whole write: a reader that takes too long (or stopped reading) is cut off, so it cannot
    // keep the body and the socket alive.
    const deadline = setTimeout(() => res.destroy(), this.opts.writeTimeoutMs);
    deadline.unref();
    res.once('close', () => clearTimeout(deadline));
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': body.byteLength });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * Wraps an async function so that calls made while one is in progress share its result instead of starting another:
 * 20 concurrent scrapes cost one render and hold one body.
 */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (inFlight === undefined) {
      inFlight = fn().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  };
}
