/**
 * A local stand-in for PostHog's ingestion API on 127.0.0.1: decodes posthog-node batches (`POST /batch/`, gzip
 * JSON) and posthog-js requests (`/e/`, `/i/v0/e/`, gzip-js / base64 / plain JSON), records every event, serves
 * posthog-js's own `array.js` at `/static/array.js` and test pages registered with `page()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo, Socket } from 'node:net';

export interface IngestedEvent {
  event: string;
  distinct_id: string;
  properties: Record<string, any>;
  /** `node` (posthog-node batch) or `browser` (posthog-js). */
  source: 'node' | 'browser';
  api_key: string | undefined;
}

export type IngestionMode = 'ok' | 'hang' | { status: number };

export interface Page {
  html: string;
  headers?: Record<string, string>;
}

export const POSTHOG_JS = new URL('../node_modules/posthog-js/dist/array.js', import.meta.url);

export class Ingestion {
  readonly events: IngestedEvent[] = [];
  readonly requests: { method: string; path: string }[] = [];
  connections = 0;
  mode: IngestionMode = 'ok';
  private readonly pages = new Map<string, Page>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private port = 0;
  private arrayJs: Buffer | undefined;

  private constructor(private readonly server: Server) {}

  static async start(mode: IngestionMode = 'ok'): Promise<Ingestion> {
    const server = createServer();
    const ingestion = new Ingestion(server);
    ingestion.mode = mode;
    server.on('connection', (s: Socket) => {
      ingestion.connections++;
      ingestion.sockets.add(s);
      s.on('close', () => ingestion.sockets.delete(s));
    });
    server.on('request', (req, res) => ingestion.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ingestion.port = (server.address() as AddressInfo).port;
    return ingestion;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  page(path: string, page: Page): string {
    this.pages.set(path, page);
    return this.url + path;
  }

  named(event: string, source?: 'node' | 'browser'): IngestedEvent[] {
    return this.events.filter((e) => e.event === event && (source === undefined || e.source === source));
  }

  /** Resolves once `predicate` holds for the recorded events; rejects after `timeoutMs` with what was seen. */
  waitFor(predicate: (events: IngestedEvent[]) => boolean, timeoutMs = 15000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.events)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out; events seen: ${JSON.stringify(this.events.map((e) => [e.source, e.event, e.distinct_id]))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? '', path: url.pathname });
    if (this.mode === 'hang' && req.method === 'POST') return; // accept, never answer

    if (req.method === 'GET') {
      const page = this.pages.get(url.pathname);
      if (page) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...page.headers }).end(page.html);
        return;
      }
      if (url.pathname === '/static/array.js') {
        this.arrayJs ??= readFileSync(POSTHOG_JS);
        res.writeHead(200, { 'content-type': 'application/javascript' }).end(this.arrayJs);
        return;
      }
      // posthog-js's remote configuration: nothing configured.
      if (/^\/array\/[^/]+\/config\.js$/.test(url.pathname)) {
        res.writeHead(200, { 'content-type': 'application/javascript' }).end('');
        return;
      }
      if (/^\/array\/[^/]+\/config$/.test(url.pathname)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(404).end();
      return;
    }

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (typeof this.mode === 'object') {
        res.writeHead(this.mode.status, { 'content-type': 'application/json' }).end('{"error":"refused by test"}');
        return;
      }
      try {
        this.record(url, req, Buffer.concat(chunks));
      } catch (err) {
        this.requests.push({ method: 'UNDECODABLE', path: `${url.pathname}: ${(err as Error).message}` });
      }
      // Any other endpoint (flags, remote config): an empty JSON answer.
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(url.pathname.startsWith('/flags') ? '{"featureFlags":{},"flags":{}}' : '{"status":1}');
    });
  }

  private record(url: URL, _req: IncomingMessage, body: Buffer): void {
    const isBatch = url.pathname === '/batch/';
    const isBrowserEvents = /^\/(e|i\/v0\/e)\/?$/.test(url.pathname);
    if (!isBatch && !isBrowserEvents) return;
    let raw = body;
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw); // gzip (posthog-node, posthog-js gzip-js or native)
    let text = raw.toString('utf8');
    if (text.startsWith('data='))
      text = Buffer.from(decodeURIComponent(new URLSearchParams(text).get('data') ?? ''), 'base64').toString('utf8');
    const parsed = JSON.parse(text) as unknown;
    const payload = parsed as { api_key?: string; batch?: unknown[] };
    const list = Array.isArray(parsed) ? parsed : Array.isArray(payload.batch) ? payload.batch : [parsed];
    for (const e of list as { event: string; distinct_id?: string; properties?: Record<string, any> }[]) {
      const properties = e.properties ?? {};
      this.events.push({
        event: e.event,
        distinct_id: e.distinct_id ?? properties.distinct_id,
        properties,
        source: isBatch ? 'node' : 'browser',
        api_key: payload.api_key ?? properties.token,
      });
    }
    for (const w of [...this.waiters]) w();
  }
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
