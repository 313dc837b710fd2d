import type { AnalyticsMiddleware, MiddlewareOptions, PageSection, RequestLike, RequestUser } from './types.js';
import { asksNotToTrack, defaultSectionFor, header, isHtmlPage, isPageNavigation, pageUrl, pathOf } from './utils.js';

/** What the middleware needs from Analytics. */
export interface PageviewSink {
  /** Records one server-rendered page view. */
  pageviewFromRequest(input: { url: string; section: PageSection; user: RequestUser | undefined; referrer: string | undefined; identify: boolean }): void;
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
export function createMiddleware<Req extends RequestLike>(sink: PageviewSink | undefined, options: MiddlewareOptions<Req> = {}): AnalyticsMiddleware<Req> {
  const honourDnt = options.honourDoNotTrack ?? true;
  const identify = options.identifyUsers ?? true;
  const userFor = options.userFor ?? defaultUserFor;
  const sectionFor = options.sectionFor;

  return function analyticsMiddleware(req, res, next) {
    if (sink !== undefined) {
      try {
        if (isPageNavigation(req.method, req.headers) && !(honourDnt && asksNotToTrack(req.headers))) {
          res.once('finish', () => {
            try {
              if (!isHtmlPage(res.statusCode, res.getHeader('content-type'))) return;
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
              sink.pageviewFromRequest({ url: pageUrl(req), section, user, referrer: header(req.headers, 'referer'), identify });
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
