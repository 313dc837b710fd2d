import type { PageSection, RequestLike } from './types.js';

export const PAGE_SECTIONS: readonly PageSection[] = ['marketing', 'dashboard', 'api-docs'];

export function isPageSection(value: unknown): value is PageSection {
  return typeof value === 'string' && (PAGE_SECTIONS as readonly string[]).includes(value);
}

/** `/api/docs…` and `/docs/api…` are `api-docs`; `/dashboard…` or any page of a signed-in user is `dashboard`; else `marketing`. */
export function defaultSectionFor(path: string, signedIn: boolean): PageSection {
  if (/^\/(api\/docs|docs\/api)(\/|$)/.test(path)) return 'api-docs';
  if (signedIn || /^\/dashboard(\/|$)/.test(path)) return 'dashboard';
  return 'marketing';
}

/**
 * Where posthog-js is loaded from by default: PostHog Cloud serves it from its assets host
 * (`eu.i.posthog.com` → `eu-assets.i.posthog.com`), a self-hosted PostHog from its own `/static/array.js`.
 */
export function defaultScriptSrc(host: string): string {
  const url = new URL(host);
  if (url.hostname.endsWith('.i.posthog.com'))
    url.hostname = url.hostname.replace(/\.i\.posthog\.com$/, '-assets.i.posthog.com');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/static/array.js`;
}

const SCRIPT_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON that is safe inside an inline `<script>`: `<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX` escapes, so
 * no value can close the element (`</script>`), open a comment (`<!--`) or end a JavaScript line.
 */
export function inlineScriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c]!);
}

const ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
};

/** A value for a double-quoted HTML attribute. */
export function htmlAttribute(value: string): string {
  return value.replace(/[&"'<>]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

/** The first value of a request header (lower-case name). */
export function header(headers: RequestLike['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The visitor asked not to be tracked: `DNT: 1` or `Sec-GPC: 1`. */
export function asksNotToTrack(headers: RequestLike['headers']): boolean {
  return header(headers, 'dnt')?.trim() === '1' || header(headers, 'sec-gpc')?.trim() === '1';
}

/**
 * A top-level page load: GET, not a prefetch, and either `Sec-Fetch-Mode: navigate` / `Sec-Fetch-Dest: document`
 * or, for clients that send no fetch metadata, an `Accept` that lists `text/html`.
 */
export function isPageNavigation(method: string | undefined, headers: RequestLike['headers']): boolean {
  if ((method ?? 'GET').toUpperCase() !== 'GET') return false;
  const purpose = header(headers, 'sec-purpose') ?? header(headers, 'purpose') ?? header(headers, 'x-moz');
  if (purpose && /prefetch|prerender/i.test(purpose)) return false;
  const mode = header(headers, 'sec-fetch-mode');
  const dest = header(headers, 'sec-fetch-dest');
  if (mode !== undefined || dest !== undefined) return mode === 'navigate' || dest === 'document';
  return /(^|,)\s*text\/html/i.test(header(headers, 'accept') ?? '');
}

/** A successful HTML page: status 2xx and `Content-Type: text/html`. */
export function isHtmlPage(statusCode: number, contentType: unknown): boolean {
  const type = Array.isArray(contentType) ? String(contentType[0]) : String(contentType ?? '');
  return statusCode >= 200 && statusCode < 300 && /^\s*text\/html/i.test(type);
}

/** The path of a request target, without query string or fragment. */
export function pathOf(target: string | undefined): string {
  const raw = target ?? '/';
  const end = raw.search(/[?#]/);
  const path = end === -1 ? raw : raw.slice(0, end);
  return path.startsWith('/') ? path : '/' + path;
}

/**
 * The page's absolute URL without its query string (queries often carry tokens). The scheme comes from the
 * socket or `X-Forwarded-Proto`, the host from `X-Forwarded-Host` or `Host`.
 */
export function pageUrl(req: RequestLike): string {
  const forwardedProto = header(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim();
  const proto =
    forwardedProto === 'https' || forwardedProto === 'http'
      ? forwardedProto
      : (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted
        ? 'https'
        : 'http';
  const host =
    header(req.headers, 'x-forwarded-host')?.split(',')[0]?.trim() || header(req.headers, 'host') || 'localhost';
  return `${proto}://${host}${pathOf(req.originalUrl ?? req.url)}`;
}
