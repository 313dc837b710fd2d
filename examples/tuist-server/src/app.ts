/**
 * The demo server's HTTP API, shaped like the Tuist server's: runs and cache events from the CLI, binary cache
 * artifacts (multipart upload through presigned part URLs, presigned downloads), previews, project deletion,
 * token refresh, and three kinds of pages. Every piece goes through the SDK's packages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Telemetry, CacheEventType } from '@tuist-telemetry/core';
import { instrumentHttpServer } from '@tuist-telemetry/http';
import type { Storage } from '@tuist-telemetry/storage';
import type { Analytics, RequestLike, RequestUser } from '@tuist-telemetry/analytics';
import type pg from 'pg';
import { createProject, deleteProject, findAccount, findProject, type Project } from './database.js';
import { HttpError, readBody, readJson, sendEmpty, sendHtml, sendJson } from './http-utils.js';
import { apiDocsPage, dashboardPage, marketingPage, metricsInfoPage } from './pages.js';
import { Router, type Match, type RequestContext } from './router.js';

export interface AppOptions {
  telemetry: Telemetry;
  /** PostHog analytics (disabled unless TUIST_POSTHOG_API_KEY and TUIST_POSTHOG_URL are both set). */
  analytics: Analytics;
  storage: Storage;
  /** The instrumented S3 client (previews are written with PutObject directly). */
  s3: S3Client;
  bucket: string;
  pool: pg.Pool;
  /** Where preview uploads are announced (outgoing HTTP through fetch); default this server's /webhooks/previews. */
  webhookUrl: () => string;
  metricsUrl: () => string | undefined;
}

/** The refresh tokens the demo accepts; anything else is a token-refresh error. */
const VALID_REFRESH_TOKEN = /^tuist_refresh_[a-z0-9]{8,}$/;
/** Every cache event type (the compiler checks this record against core's `CacheEventType`, both ways). */
const CACHE_EVENTS: Record<CacheEventType, true> = { local_hit: true, remote_hit: true, miss: true };
const cacheEventTypes: ReadonlySet<string> = new Set(Object.keys(CACHE_EVENTS));

const cacheKey = (p: Project, hash: string): string => `${p.slug}/cache/${hash}`;
const previewKey = (p: Project, id: string, file: string): string => `${p.slug}/previews/${id}/${file}`;

function validHash(hash: string | undefined): string {
  if (!hash || !/^[A-Za-z0-9._-]{1,128}$/.test(hash))
    throw new HttpError(400, 'hash must be 1 to 128 letters, digits, dots, dashes or underscores');
  return hash;
}

export interface App {
  server: Server;
  /** Resolves once every request handler that started has finished (used before closing the pool on shutdown). */
  idle(): Promise<void>;
}

export function createApp(o: AppOptions): App {
  const router = new Router();
  const matches = new WeakMap<IncomingMessage, Match>();
  /** The signed-in user of a page request (the dashboard signs in as the demo user). */
  const users = new WeakMap<IncomingMessage, RequestUser>();
  // (The cast: analytics' RequestLike types `socket` as `{ encrypted?: boolean }`, which node's Socket does not declare.)
  const pageviews = o.analytics.middleware<RequestLike>({
    userFor: (req) => users.get(req as unknown as IncomingMessage),
  });
  let bundle: Promise<Buffer> | undefined;

  async function project(ctx: RequestContext): Promise<Project> {
    const p = await findProject(o.pool, ctx.params.account!, ctx.params.project!);
    if (!p) throw new HttpError(404, `project ${ctx.params.account}/${ctx.params.project} not found`);
    return p;
  }

  // Pages
  // Pages: each carries the PostHog browser snippet of its section ('' when analytics is off).
  router.add('GET', '/', ({ res }) =>
    sendHtml(res, marketingPage(o.analytics.browserSnippet({ section: 'marketing' }))),
  );
  router.add('GET', '/dashboard', async ({ req, res }) => {
    const me = await findAccount(o.pool, 'marek');
    const org = await findAccount(o.pool, 'tuist');
    const app = await findProject(o.pool, 'tuist', 'app');
    const r = await o.pool.query<{ slug: string }>(
      "SELECT a.name || '/' || p.name AS slug FROM projects p JOIN accounts a ON a.id = p.account_id ORDER BY 1 LIMIT 20",
    );
    const user = me ? { id: me.id, email: me.email ?? undefined, accountName: me.name } : undefined;
    const project = app ? { id: app.id, name: app.slug } : undefined;
    const organization = org ? { id: org.id, name: org.name } : undefined;
    if (user) users.set(req, { ...user, project, organization });
    const snippet = o.analytics.browserSnippet({ section: 'dashboard', user, project, organization });
    sendHtml(
      res,
      dashboardPage(
        { user: { name: me?.name ?? 'unknown', email: me?.email ?? null }, projects: r.rows.map((x) => x.slug) },
        snippet,
      ),
    );
  });
  router.add('GET', '/api/docs', ({ res }) =>
    sendHtml(res, apiDocsPage(o.analytics.browserSnippet({ section: 'api-docs' }))),
  );
  router.add('GET', '/assets/posthog.js', async ({ res }) => {
    const body = await (bundle ??= posthogBundle());
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'public, max-age=3600',
    });
    res.end(body);
  });
  router.add('GET', '/metrics-info', ({ res }) =>
    sendHtml(res, metricsInfoPage(o.metricsUrl(), o.telemetry.config.exporters.join(', ') || 'none')),
  );
  router.add('GET', '/healthz', ({ res }) => sendJson(res, 200, { ok: true }));

  // Runs and cache events, as the CLI reports them.
  router.add('POST', '/api/runs', async ({ req, res }) => {
    const b = await readJson<{ name?: unknown; is_ci?: unknown; status?: unknown; duration_ms?: unknown }>(req);
    if (typeof b.name !== 'string' || !b.name) throw new HttpError(400, 'name is required');
    if (b.status !== 0 && b.status !== 1) throw new HttpError(400, 'status must be 0 (success) or 1 (failure)');
    const durationMs = typeof b.duration_ms === 'number' ? b.duration_ms : undefined;
    o.telemetry.metrics.recordRun({ name: b.name, isCi: b.is_ci === true, status: b.status, durationMs });
    sendJson(res, 201, { id: randomUUID() });
  });
  router.add('POST', '/api/cache/events', async ({ req, res }) => {
    const b = await readJson<{ events?: { event_type?: string; count?: number }[] }>(req);
    if (!Array.isArray(b.events)) throw new HttpError(400, 'events must be a list of {event_type, count}');
    for (const e of b.events) {
      if (!e || !cacheEventTypes.has(e.event_type ?? ''))
        throw new HttpError(400, 'event_type must be local_hit, remote_hit or miss');
    }
    for (const e of b.events)
      o.telemetry.metrics.recordCacheEvent(
        e.event_type as CacheEventType,
        Number.isInteger(e.count) && e.count! > 0 ? e.count : 1,
      );
    sendEmpty(res, 204);
  });

  // Binary cache artifacts.
  const artifact = '/api/projects/:account/:project/cache/:hash';
  router.add('HEAD', artifact, async (ctx) => {
    const p = await project(ctx);
    sendEmpty(ctx.res, (await o.storage.objectExists(cacheKey(p, validHash(ctx.params.hash)))) ? 200 : 404);
  });
  router.add('GET', artifact, async (ctx) => {
    const p = await project(ctx);
    const key = cacheKey(p, validHash(ctx.params.hash));
    if (!(await o.storage.objectExists(key))) throw new HttpError(404, 'artifact not found');
    const size = await o.storage.getObjectSize(key);
    const url = await o.storage.generateDownloadUrl(key, { expiresIn: 600 });
    o.telemetry.metrics.recordCacheDownload(size);
    sendJson(ctx.res, 200, { url, size });
  });
  router.add('POST', `${artifact}/multipart/start`, async (ctx) => {
    const p = await project(ctx);
    const uploadId = await o.storage.multipartStart(cacheKey(p, validHash(ctx.params.hash)));
    sendJson(ctx.res, 200, { upload_id: uploadId });
  });
  router.add('POST', `${artifact}/multipart/parts/:part`, async (ctx) => {
    const p = await project(ctx);
    const uploadId = ctx.url.searchParams.get('upload_id');
    const part = Number(ctx.params.part);
    if (!uploadId) throw new HttpError(400, 'upload_id is required');
    if (!Number.isInteger(part) || part < 1 || part > 10000) throw new HttpError(400, 'part must be 1 to 10000');
    const url = await o.storage.multipartGenerateUploadPartUrl(
      cacheKey(p, validHash(ctx.params.hash)),
      uploadId,
      part,
      { expiresIn: 600 },
    );
    sendJson(ctx.res, 200, { url });
  });
  router.add('POST', `${artifact}/multipart/complete`, async (ctx) => {
    const p = await project(ctx);
    const key = cacheKey(p, validHash(ctx.params.hash));
    const b = await readJson<{ upload_id?: string; parts?: { part_number: number; etag: string }[] }>(ctx.req);
    if (!b.upload_id || !Array.isArray(b.parts) || b.parts.length === 0)
      throw new HttpError(400, 'upload_id and parts are required');
    await o.storage.multipartComplete(
      key,
      b.upload_id,
      b.parts.map((x) => ({ partNumber: x.part_number, etag: x.etag })),
    );
    const size = await o.storage.getObjectSize(key);
    o.telemetry.metrics.recordCacheUpload(size);
    sendJson(ctx.res, 200, { size });
  });

  // Previews: the server stores the bundle and a manifest, then announces the upload.
  router.add('POST', '/api/projects/:account/:project/previews', async (ctx) => {
    const p = await project(ctx);
    const body = await readBody(ctx.req);
    if (body.length === 0) throw new HttpError(400, 'the preview is empty');
    const id = randomUUID();
    const manifest = JSON.stringify({ id, project: p.slug, size: body.length, uploaded_at: new Date().toISOString() });
    await o.s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: previewKey(p, id, 'app.zip'), Body: body }));
    await o.s3.send(
      new PutObjectCommand({
        Bucket: o.bucket,
        Key: previewKey(p, id, 'manifest.json'),
        Body: manifest,
        ContentType: 'application/json',
      }),
    );
    o.telemetry.metrics.recordPreviewUpload();
    o.analytics.previewUploaded({ project: { id: p.id, name: p.slug }, previewId: id });
    const hook = await fetch(o.webhookUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: manifest,
    }).catch(() => undefined);
    await hook?.body?.cancel();
    sendJson(ctx.res, 201, { id });
  });
  router.add('GET', '/api/projects/:account/:project/previews/:id', async (ctx) => {
    const p = await project(ctx);
    const id = validHash(ctx.params.id);
    if (!(await o.storage.objectExists(previewKey(p, id, 'manifest.json'))))
      throw new HttpError(404, 'preview not found');
    const manifest = JSON.parse(await o.storage.getObjectAsString(previewKey(p, id, 'manifest.json'))) as Record<
      string,
      unknown
    >;
    const url = await o.storage.generateDownloadUrl(previewKey(p, id, 'app.zip'), { expiresIn: 600 });
    o.telemetry.metrics.recordPreviewDownload();
    o.analytics.previewDownloaded({ project: { id: p.id, name: p.slug }, previewId: id });
    sendJson(ctx.res, 200, { ...manifest, url });
  });
  router.add('POST', '/webhooks/previews', async ({ req, res }) => {
    await readBody(req, 64 * 1024);
    sendEmpty(res, 204);
  });

  // Projects.
  router.add('POST', '/api/projects', async ({ req, res }) => {
    const b = await readJson<{ account?: string; name?: string }>(req);
    if (!b.account || !b.name || !/^[a-z0-9-]{1,64}$/.test(b.name))
      throw new HttpError(400, 'account and name (a-z, 0-9, -) are required');
    const p = await createProject(o.pool, b.account, b.name);
    if (!p) throw new HttpError(404, `account ${b.account} not found`);
    sendJson(res, 201, p);
  });
  router.add('DELETE', '/api/projects/:account/:project', async (ctx) => {
    const p = await project(ctx);
    const deleted = await o.storage.deleteAllObjects(p.slug);
    await deleteProject(o.pool, p.id);
    sendJson(ctx.res, 200, { deleted_objects: deleted });
  });

  // Token refresh: an invalid token is answered 401 and counted by reason and CLI version.
  router.add('POST', '/api/auth/refresh', async ({ req, res }) => {
    const b = await readJson<{ refresh_token?: unknown; cli_version?: unknown }>(req);
    const cliVersion = typeof b.cli_version === 'string' && b.cli_version ? b.cli_version : 'unknown';
    const token = typeof b.refresh_token === 'string' ? b.refresh_token : '';
    if (VALID_REFRESH_TOKEN.test(token)) {
      sendJson(res, 200, { access_token: `tuist_access_${randomUUID().replaceAll('-', '')}`, expires_in: 600 });
      return;
    }
    const reason = token.startsWith('tuist_access_') ? 'invalid_token_type' : 'invalid_token';
    o.telemetry.metrics.recordTokenRefreshError({ cliVersion, reason });
    o.analytics.tokenRefreshError({ reason, properties: { cli_version: cliVersion } });
    sendJson(res, 401, { error: reason });
  });

  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const p = handle(req, res).finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = router.match(req.method ?? 'GET', url.pathname);
    if (match) matches.set(req, match);
    pageviews(req as unknown as RequestLike, res);
    try {
      if (!match) throw new HttpError(404, 'not found');
      await match.route.handler({ req, res, params: match.params, url });
    } catch (err) {
      // A storage object or upload that is gone (e.g. its project was deleted meanwhile) is a 404, not a crash.
      const s3Status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
      const status = err instanceof HttpError ? err.status : s3Status === 404 ? 404 : 500;
      if (status === 500) console.error(`${req.method} ${url.pathname}:`, err);
      if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    }
  }
  instrumentHttpServer(server, {
    routeFor: (req) => {
      let m = matches.get(req);
      if (!m) {
        m = router.match(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname);
        if (m) matches.set(req, m);
      }
      return m?.route.template;
    },
  });
  return {
    server,
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

/** The posthog-js browser bundle, served at /assets/posthog.js for the pages' snippet. */
export async function posthogBundle(): Promise<Buffer> {
  const require = createRequire(import.meta.url);
  return readFile(require.resolve('posthog-js/dist/array.full.js'));
}
