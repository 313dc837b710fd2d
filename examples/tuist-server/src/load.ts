/**
 * The built-in load generator: plays Tuist CLIs and browsers against the demo so that every documented metric has
 * data within seconds. Its HTTP goes through the instrumented undici agent, so the `tuist_http_*` client metrics
 * measure it (requests to the demo itself and to the S3 presigned URLs).
 */
import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { inSpan } from './spans.js';

export interface LoadOptions {
  /** The demo's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  dispatcher: Dispatcher;
  /** Pause between iterations of each worker. */
  intervalMs: number;
  /** Concurrent workers; default 2. */
  workers?: number;
  /** Called with the first error of each kind (the generator keeps going). */
  onError?: (err: Error) => void;
}

export interface LoadGenerator {
  /** Completed iterations. */
  readonly iterations: number;
  stop(): Promise<void>;
}

const PROJECTS = ['tuist/app', 'tuist/cli', 'acme/ios'];
const COMMANDS = ['build', 'test', 'generate', 'cache', 'share'];
/** A small pool of artifact hashes: once uploaded they are remote hits until their project is wiped. */
const HASHES = Array.from({ length: 12 }, (_, i) => `artifact-${i.toString(16).padStart(4, '0')}`);

const PAGES = ['/', '/dashboard', '/api/docs'];
const BROWSER = {
  accept: 'text/html,application/xhtml+xml',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'user-agent': 'Mozilla/5.0 (tuist-demo load generator)',
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Reply {
  status: number;
  body: unknown;
}

export function startLoad(o: LoadOptions): LoadGenerator {
  let stopped = false;
  let iterations = 0;
  const seenErrors = new Set<string>();
  const abort = new AbortController();

  async function call(
    method: Dispatcher.HttpMethod,
    url: string,
    body?: unknown,
    raw?: Buffer,
    extraHeaders: Record<string, string> = {},
  ): Promise<Reply> {
    const full = url.startsWith('http') ? url : `${o.baseUrl}${url}`;
    const res = await request(full, {
      method,
      dispatcher: o.dispatcher,
      signal: abort.signal,
      headers: {
        ...(raw
          ? { 'content-type': 'application/octet-stream' }
          : body !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
        ...extraHeaders,
      },
      body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, body: type.includes('json') && text ? JSON.parse(text) : text };
  }

  async function expect(reply: Promise<Reply>, ...ok: number[]): Promise<Reply> {
    const r = await reply;
    if (!ok.includes(r.status)) {
      // The other worker deleted this project a moment ago and is about to recreate it: skip this iteration.
      if (r.status === 404 && /project \S+ not found/.test(JSON.stringify(r.body))) throw new ProjectGone();
      throw new Error(`unexpected HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    return r;
  }

  /** A CLI uploading an artifact in two parts through presigned part URLs. */
  async function upload(project: string, hash: string): Promise<void> {
    const base = `/api/projects/${project}/cache/${hash}`;
    const { body } = await expect(call('POST', `${base}/multipart/start`), 200);
    const uploadId = (body as { upload_id: string }).upload_id;
    const parts: { part_number: number; etag: string }[] = [];
    for (const partNumber of [1, 2]) {
      const { body: u } = await expect(
        call('POST', `${base}/multipart/parts/${partNumber}?upload_id=${encodeURIComponent(uploadId)}`),
        200,
      );
      const data = randomBytes(512 + Math.floor(Math.random() * 64 * 1024));
      const put = await request((u as { url: string }).url, {
        method: 'PUT',
        body: data,
        dispatcher: o.dispatcher,
        signal: abort.signal,
      });
      await put.body.dump();
      if (put.statusCode === 404) return; // the upload was removed with its project meanwhile
      if (put.statusCode !== 200) throw new Error(`part upload answered HTTP ${put.statusCode}`);
      parts.push({ part_number: partNumber, etag: String(put.headers.etag) });
    }
    // 404: the project was deleted while this upload was in flight (the load deletes projects now and then).
    await expect(call('POST', `${base}/multipart/complete`, { upload_id: uploadId, parts }), 200, 404);
  }

  async function iteration(n: number): Promise<void> {
    const project = pick(PROJECTS);
    const isCi = Math.random() < 0.5;

    // The CLI reports a run and its cache events.
    await expect(
      call('POST', '/api/runs', {
        name: pick(COMMANDS),
        is_ci: isCi,
        status: Math.random() < 0.9 ? 0 : 1,
        duration_ms: Math.round(50 + Math.random() ** 2 * 60_000),
      }),
      201,
    );

    // Binary cache: look the artifact up, upload it on a miss, download it on a hit.
    const hash = pick(HASHES);
    const events: { event_type: string; count: number }[] = [
      { event_type: 'local_hit', count: 1 + Math.floor(Math.random() * 5) },
    ];
    const head = await expect(call('HEAD', `/api/projects/${project}/cache/${hash}`), 200, 404);
    if (head.status === 404) {
      events.push({ event_type: 'miss', count: 1 });
      await upload(project, hash);
    } else {
      events.push({ event_type: 'remote_hit', count: 1 });
      // 404s below: the project was deleted meanwhile (the load deletes projects now and then).
      const { status, body } = await expect(call('GET', `/api/projects/${project}/cache/${hash}`), 200, 404);
      if (status === 200) {
        const dl = await request((body as { url: string }).url, { dispatcher: o.dispatcher, signal: abort.signal });
        await dl.body.dump();
      }
    }
    await expect(call('POST', '/api/cache/events', { events }), 204);

    // Previews: upload one, download it.
    if (n % 2 === 0) {
      const { body } = await expect(
        call(
          'POST',
          `/api/projects/${project}/previews`,
          undefined,
          randomBytes(256 + Math.floor(Math.random() * 4096)),
        ),
        201,
      );
      const id = (body as { id: string }).id;
      const { status, body: meta } = await expect(call('GET', `/api/projects/${project}/previews/${id}`), 200, 404);
      if (status === 200) {
        const dl = await request((meta as { url: string }).url, { dispatcher: o.dispatcher, signal: abort.signal });
        await dl.body.dump();
      }
    }

    // A CLI with an expired or wrong token.
    if (n % 3 === 0) {
      const token = Math.random() < 0.5 ? 'expired-token' : 'tuist_access_0123456789';
      await expect(
        call('POST', '/api/auth/refresh', { refresh_token: token, cli_version: pick(['4.40.0', '4.41.2', '4.43.1']) }),
        401,
      );
    }

    // Browsers navigating to the three page sections (the headers a browser sends for a page navigation).
    await expect(call('GET', PAGES[n % PAGES.length]!, undefined, undefined, BROWSER), 200);

    // Now and then a project is deleted (every object under its prefix) and recreated, which also keeps the
    // local S3 directory small.
    if (n % 25 === 0) {
      const [account, name] = pick(PROJECTS).split('/') as [string, string];
      await expect(call('DELETE', `/api/projects/${account}/${name}`), 200, 404);
      await expect(call('POST', '/api/projects', { account, name }), 201);
    }
  }

  async function worker(index: number): Promise<void> {
    let n = index;
    while (!stopped) {
      try {
        // One trace per iteration (with traces on): a CLI session whose requests carry its trace context.
        const i = n;
        await inSpan('load iteration', () => iteration(i));
        iterations++;
      } catch (err) {
        if (stopped) break;
        const e = err instanceof Error ? err : new Error(String(err));
        if (!(err instanceof ProjectGone) && !seenErrors.has(e.message)) {
          seenErrors.add(e.message);
          o.onError?.(e);
        }
      }
      n += o.workers ?? 2;
      if (!stopped) await sleep(o.intervalMs);
    }
  }

  const running = Array.from({ length: o.workers ?? 2 }, (_, i) => worker(i));
  return {
    get iterations() {
      return iterations;
    },
    async stop() {
      stopped = true;
      abort.abort();
      await Promise.allSettled(running);
    },
  };
}

/** A request raced with the deletion of its project (part of the load): not an error worth reporting. */
class ProjectGone extends Error {}
