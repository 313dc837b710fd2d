import type {
  AnalyticsMiddleware,
  MiddlewareOptions,
  PageSection,
  RequestLike,
  RequestUser,
  ResponseLike,
} from './types.js';
import { asksNotToTrack, defaultSectionFor, header, isHtmlPage, isPageNavigation, pageUrl, pathOf } from './page.js';

/** What the middleware needs from Analytics. */
export interface PageviewSink {
  /** Records one server-rendered page view. */
  pageviewFromRequest(input: {
    url: string;
    section: PageSection;
    user: RequestUser | undefined;
    referrer: string | undefined;
    identify: boolean;
  }): void;
  /** Reports a failing user hook (never thrown into the host). */
  hookFailed(hook: string, err: unknown): void;
}

/** `req.user` when it looks like a signed-in user (an object with an `id`). */
function defaultUserFor(req: RequestLike): RequestUser | undefined {
  const user = (req as { user?: unknown }).user;
  if (user === null || typeof user !== 'object') return undefined;
  const id = (user as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? (user as RequestUser) : undefined;
}

/**
 * Captures a `$pageview` for each page navigation (GET, HTML response, 2xx) once the response has finished, so
 * authentication middleware that runs later has set the user. Requests with `DNT: 1` or `Sec-GPC: 1` are skipped.
 */
export function createMiddleware<Req extends RequestLike>(
  sink: PageviewSink | undefined,
  options: MiddlewareOptions<Req> = {},
): AnalyticsMiddleware<Req> {
  const honourDnt = options.honourDoNotTrack ?? true;
  const identify = options.identifyUsers ?? true;
  const userFor = options.userFor ?? defaultUserFor;
  const sectionFor = options.sectionFor;

  return function analyticsMiddleware(req, res, next) {
    if (sink !== undefined) {
      try {
        if (isPageNavigation(req.method, req.headers) && !(honourDnt && asksNotToTrack(req.headers))) {
          const writtenType = captureWriteHeadContentType(res);
          res.once('finish', () => {
            try {
              if (!isHtmlPage(res.statusCode, res.getHeader('content-type') ?? writtenType())) return;
              let user: RequestUser | undefined;
              try {
                user = userFor(req) ?? undefined;
              } catch (err) {
                sink.hookFailed('userFor', err);
              }
              const path = pathOf(req.originalUrl ?? req.url);
              let section: PageSection = defaultSectionFor(path, user !== undefined);
              if (sectionFor) {
                try {
                  section = sectionFor(path, req, user);
                } catch (err) {
                  sink.hookFailed('sectionFor', err);
                  return;
                }
              }
              sink.pageviewFromRequest({
                url: pageUrl(req),
                section,
                user,
                referrer: header(req.headers, 'referer'),
                identify,
              });
            } catch (err) {
              sink.hookFailed('middleware', err);
            }
          });
        }
      } catch (err) {
        sink.hookFailed('middleware', err);
      }
    }
    if (typeof next === 'function') next();
  };
}

/**
 * Headers passed straight to `res.writeHead(status, headers)` never reach `res.getHeader()` in node:http, so a page
 * written that way would look like it had no Content-Type. Wrap this response's `writeHead` (once, transparently:
 * same arguments, same return value) to see the Content-Type it was given.
 */
function captureWriteHeadContentType(res: ResponseLike): () => unknown {
  let seen: unknown;
  const original = res.writeHead;
  if (typeof original !== 'function') return () => undefined;
  res.writeHead = function writeHead(this: unknown, ...args: unknown[]) {
    try {
      seen = contentTypeOf(typeof args[1] === 'string' ? args[2] : args[1]) ?? seen;
    } catch {
      // Reading the arguments must never break the response.
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  return () => seen;
}

function contentTypeOf(headers: unknown): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (Array.isArray(headers)) {
    // Either [[name, value], …] or a flat [name, value, name, value, …].
    if (Array.isArray(headers[0]))
      return (headers as unknown[][]).find((h) => String(h[0]).toLowerCase() === 'content-type')?.[1];
    for (let i = 0; i + 1 < headers.length; i += 2)
      if (String(headers[i]).toLowerCase() === 'content-type') return headers[i + 1];
    return undefined;
  }
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'content-type') return v;
  return undefined;
}
