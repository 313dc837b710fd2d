import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { ScrapeAuthenticator, type ScrapeAuth } from './auth.js';
import { MemberStream, writeGzipMembers } from './gzip-stream.js';
import type { EscapingScheme } from '../labels/escaping.js';
import { qvalue, type ExpositionFormat } from './format.js';
import { negotiateScrape } from './negotiate.js';

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
   * Content-Length). Concurrent calls are expected to share one body (see `singleFlight` in render.ts). `escaping`: the name
   * escaping the scraper asked for (undefined: none).
   */
  render: (format: ExpositionFormat, escaping?: EscapingScheme) => Promise<Buffer>;
  /** Called once per body `render` gave, when its response is closed (written or not): the body is free again. */
  release?: (body: Buffer) => void;
  /**
   * The body as gzip members (compress.ts), for a GET that accepts gzip and asks for no `escaping=`; without it (or
   * with a scheme asked for), `render`'s body is streamed through gzip.
   */
  renderGzip?: (format: ExpositionFormat) => Promise<MemberStream>;
  onRenderError: (err: unknown) => void;
  /** Credentials a scrape must carry; undefined: open. */
  auth?: ScrapeAuth;
}

/** Seconds a client told 503 should wait. */
const RETRY_AFTER_S = 1;

/**
 * Whether the client decodes a gzip body of several members (RFC 1952 section 2.2). Deno's `fetch` (2.9) decodes only
 * the first member and drops the rest without an error, so a scrape from Deno (`User-Agent: Deno/…`) gets one gzip
 * stream instead.
 */
export function readsGzipMembers(userAgent: string | undefined): boolean {
  return userAgent === undefined || !userAgent.startsWith('Deno/');
}

/** Bytes handed to gzip at a time: each slice is compressed on libuv's thread pool, never on the event loop. */
const GZIP_SLICE = 64 * 1024;

/**
 * Whether an `Accept-Encoding` header accepts gzip (RFC 9110 section 12.5.3): `gzip` or `x-gzip` (any case) with a
 * weight above 0, or, when neither is listed, `*` with a weight above 0. A malformed weight counts as 0.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((x) => x.trim());
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*(.*)$/i.exec(p);
      if (m) q = qvalue(m[1]!) ?? 0;
    }
    const c = coding.toLowerCase();
    if (c === 'gzip' || c === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (c === '*') any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

function* slices(body: Buffer): Generator<Buffer> {
  for (let i = 0; i < body.length; i += GZIP_SLICE) yield body.subarray(i, i + GZIP_SLICE);
}

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
  private cutOff = 0;
  /** Sockets with a scrape in progress (for counting the ones the idle timeout cuts off). */
  private readonly busy = new WeakSet<object>();
  private readonly auth: ScrapeAuthenticator | undefined;

  constructor(private readonly opts: EndpointOptions) {
    this.auth = opts.auth ? new ScrapeAuthenticator(opts.auth) : undefined;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Scrapes are not the host's traffic: TuistHttpServerInstrumentation (@tuist-telemetry/http) skips servers so marked.
    Object.defineProperty(this.server, Symbol.for('@tuist-telemetry/core.internalServer'), { value: true });
    this.server.keepAliveTimeout = Math.min(5000, opts.idleTimeoutMs);
    // Socket inactivity (no bytes read or written), a reader that stopped reading included: the socket is closed.
    this.server.timeout = opts.idleTimeoutMs;
    this.server.on('timeout', (socket: Socket) => {
      if (this.busy.has(socket)) this.cutOff++;
      socket.destroy();
    });
    this.server.headersTimeout = Math.min(60_000, opts.idleTimeoutMs);
    this.server.requestTimeout = Math.min(300_000, Math.max(opts.idleTimeoutMs, opts.writeTimeoutMs));
    this.listening = new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const where = `${opts.host ?? '0.0.0.0'}:${opts.port}`;
        const hint =
          err.code === 'EADDRINUSE'
            ? `port ${opts.port} is already in use; set OTEL_EXPORTER_PROMETHEUS_PORT (or options.prometheus.port) to a free port`
            : `${err.message}; check OTEL_EXPORTER_PROMETHEUS_HOST and OTEL_EXPORTER_PROMETHEUS_PORT`;
        const e = new Error(`@tuist-telemetry/core: the Prometheus endpoint cannot listen on ${where}: ${hint}`, {
          cause: err,
        });
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

  /** Scrapes cut off by the write or the idle timeout. */
  get scrapesCutOff(): number {
    return this.cutOff;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res
        .writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n');
      return;
    }
    if (this.auth && !this.auth.accepts(req.headers.authorization)) {
      res
        .writeHead(401, { 'WWW-Authenticate': this.auth.challenges, 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Unauthorized\n');
      return;
    }
    if (this.active >= this.opts.maxConcurrentScrapes) {
      res
        .writeHead(503, { 'Retry-After': String(RETRY_AFTER_S), 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Too many scrapes in progress; retry later\n');
      return;
    }
    this.active++;
    const socket = req.socket;
    this.busy.add(socket);
    res.once('close', () => {
      this.active--;
      this.busy.delete(socket);
    });
    // Protobuf or OpenMetrics when asked for (Prometheus asks for one of them first), else text, never an error; with
    // the name escaping asked for (Prometheus 3's `escaping=`), echoed in the Content-Type.
    const { format, escaping, contentType } = negotiateScrape(req.headers.accept);
    const gzipped = req.method === 'GET' && acceptsGzip(req.headers['accept-encoding']);
    let body: Buffer | MemberStream;
    try {
      const members =
        gzipped &&
        escaping === undefined &&
        this.opts.renderGzip !== undefined &&
        readsGzipMembers(req.headers['user-agent']);
      body = members ? await this.opts.renderGzip!(format) : await this.opts.render(format, escaping);
    } catch (err) {
      try {
        this.opts.onRenderError(err);
      } catch {
        // a diag logger that throws must not leave the scraper waiting: the 500 below is still written
      }
      if (!res.destroyed)
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Error while collecting metrics\n');
      return;
    }
    if (!(body instanceof MemberStream)) {
      const rendered = body;
      if (res.destroyed) this.opts.release?.(rendered);
      else res.once('close', () => this.opts.release?.(rendered));
    }
    if (res.destroyed) return;
    // The deadline for the whole write: a reader that takes too long (or stopped reading) is cut off, so it cannot
    // keep the body and the socket alive.
    const deadline = setTimeout(() => {
      this.cutOff++;
      res.destroy();
    }, this.opts.writeTimeoutMs);
    deadline.unref();
    res.once('close', () => clearTimeout(deadline));
    if (body instanceof MemberStream) {
      writeGzipMembers(res, { 'Content-Type': contentType, Vary: 'Accept, Accept-Encoding' }, body);
      return;
    }
    // gzip only for a response with a body: HEAD and an empty body get none (and no Content-Encoding).
    if (gzipped && body.byteLength > 0) {
      // Streamed: the shared body is fed to gzip a slice at a time (compressed on the thread pool) and the output
      // is written with backpressure, so no compressed copy of the whole body is built per scrape.
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Encoding': 'gzip', Vary: 'Accept, Accept-Encoding' });
      const gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
      pipeline(Readable.from(slices(body)), gzip, res, (err) => {
        if (err) res.destroy();
      });
      return;
    }
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': body.byteLength,
      Vary: 'Accept, Accept-Encoding',
    });
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
