/**
 * What a page is: its section (`page_section`), and, for server-rendered page views, whether a request is a page
 * navigation, its path and URL, and the visitor's tracking preference.
 */
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
