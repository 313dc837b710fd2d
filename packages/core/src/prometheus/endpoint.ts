import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTENT_TYPE } from './format.js';

export interface EndpointOptions {
  host: string | undefined;
  port: number;
  /** Listen on the port alone even in a cluster worker (instead of sharing the primary's socket). */
  exclusive?: boolean;
  /** Builds the exposition body (its UTF-8 bytes); runs once per GET (HEAD builds it too, for an honest Content-Length). */
  render: () => Promise<Uint8Array>;
  onRenderError: (err: unknown) => void;
}

/**
 * `GET /metrics` (and HEAD) in the Prometheus text format. Other paths answer 404, other methods 405.
 * The server is unref'd: it never keeps the host process alive on its own.
 */
export class MetricsEndpoint {
  private readonly server: http.Server;
  readonly listening: Promise<AddressInfo>;

  constructor(private readonly opts: EndpointOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
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
    let body: Uint8Array;
    try {
      body = await this.opts.render();
    } catch (err) {
      this.opts.onRenderError(err);
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Error while collecting metrics\n');
      return;
    }
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
