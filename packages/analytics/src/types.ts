import type { Telemetry } from '@tuist-telemetry/core';

// The public types are our own: nothing here (or in index.ts) may reach posthog-node's types, whose express
// extension imports 'express' and breaks strict TypeScript users without skipLibCheck (TS2307).

/** Why an event did not reach PostHog (the `reason` label of `tuist_analytics_events_dropped_total`). */
export type DropReason = 'invalid_section' | 'invalid_event' | 'queue_full' | 'rejected' | 'shutdown';

/** The section of the product an event comes from; sent as the `page_section` super property on every event. */
export type PageSection = 'marketing' | 'dashboard' | 'api-docs';

/** A project or an organization, as PostHog group analytics sees it. */
export interface GroupRef {
  id: string | number;
  name?: string;
}

/** A signed-in user. `id` becomes the PostHog distinct id; `accountName` is the alias. */
export interface AnalyticsUser {
  id: string | number;
  email?: string;
  accountName?: string;
}

/** Group keys by group type (`project`, `organization`), as sent in `$groups`. */
export type Groups = Readonly<Record<string, string | number>>;

export interface AnalyticsOptions {
  /** PostHog project API key; default `TUIST_POSTHOG_API_KEY`. */
  apiKey?: string;
  /** PostHog host, e.g. `https://eu.i.posthog.com`; default `TUIST_POSTHOG_URL`. */
  host?: string;
  /** Where the browser snippet loads posthog-js from; default `<host>/static/array.js` (see README). */
  scriptSrc?: string;
  /** Most events held in memory while PostHog is unreachable; the oldest is dropped beyond it. Default 1000. */
  maxQueueSize?: number;
  /** Events that trigger a send; default 20. */
  flushAt?: number;
  /** Longest an event waits before it is sent; default 5000 ms. */
  flushIntervalMs?: number;
  /** Time limit of one request to PostHog; default 3000 ms. */
  requestTimeoutMs?: number;
  /** Retries of a failed request; default 2. */
  fetchRetryCount?: number;
  /** Pause between retries; default 500 ms. */
  fetchRetryDelayMs?: number;
  /** Upper bound of `shutdown()`; default 5000 ms. */
  shutdownTimeoutMs?: number;
  /** Users whose groups are remembered (least recently seen forgotten first); default 10000. */
  maxRememberedUsers?: number;
  /**
   * Telemetry that counts dropped events and flushes analytics on its shutdown; default the running one
   * (`getTelemetry()`). Pass `null` to keep analytics away from telemetry.
   */
  telemetry?: Telemetry | null;
  /** The environment to read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface CaptureInput {
  event: string;
  section: PageSection;
  /** The user's id; without it the event is anonymous (random in-memory id, no person profile). */
  distinctId?: string | number;
  properties?: Readonly<Record<string, unknown>>;
  /** Groups of this event; merged over the groups remembered for the user. */
  groups?: Groups;
}

export interface PageviewInput {
  /** The page's absolute URL (`$current_url`). */
  url: string;
  section: PageSection;
  distinctId?: string | number;
  groups?: Groups;
  /** The referring page (`$referrer`). */
  referrer?: string;
}

export interface IdentifyInput extends AnalyticsUser {
  /** Default `dashboard` (identifying happens in the app). */
  section?: PageSection;
}

export interface GroupInput {
  distinctId: string | number;
  project?: GroupRef;
  organization?: GroupRef;
  /** Default `dashboard`. */
  section?: PageSection;
}

/** The request as the middleware reads it (node:http's IncomingMessage, Express's Request). */
export interface RequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** A TLS socket (`encrypted: true`) makes the page URL https. */
  socket?: object | null;
}

/** The response as the middleware reads it (node:http's ServerResponse, Express's Response). */
export interface ResponseLike {
  statusCode: number;
  getHeader(name: string): unknown;
  /** node:http's `writeHead`; the middleware also reads the Content-Type passed to it. */
  writeHead?: (...args: never[]) => unknown;
  once(event: 'finish', listener: () => void): unknown;
}

/** The user behind a request, with the groups selected on that page. */
export interface RequestUser extends AnalyticsUser {
  project?: GroupRef;
  organization?: GroupRef;
}

export interface MiddlewareOptions<Req extends RequestLike = RequestLike> {
  /** The section of a path; default: `/api/docs…`, `/docs/api…` → `api-docs`, `/dashboard…` or a signed-in user → `dashboard`, else `marketing`. */
  sectionFor?: (path: string, req: Req, user: RequestUser | undefined) => PageSection;
  /** The signed-in user of a request; default `req.user` when it has an `id`. Called when the response finishes. */
  userFor?: (req: Req) => RequestUser | undefined | null;
  /** Skip requests that send `DNT: 1` or `Sec-GPC: 1`; default true. */
  honourDoNotTrack?: boolean;
  /** Identify a signed-in user (email, alias, groups) the first time this process sees them; default true. */
  identifyUsers?: boolean;
}

/** Connect/Express-style middleware; also callable as `middleware(req, res)` from a node:http handler. */
export type AnalyticsMiddleware<Req extends RequestLike = RequestLike> = (
  req: Req,
  res: ResponseLike,
  next?: (err?: unknown) => void,
) => void;

export interface SnippetOptions {
  section: PageSection;
  /** The signed-in user; without it the visitor is anonymous (memory-only persistence). */
  user?: AnalyticsUser;
  project?: GroupRef;
  organization?: GroupRef;
  /** CSP nonce for the `<script>` elements. */
  nonce?: string;
  /** Overrides the `scriptSrc` option for this page. */
  scriptSrc?: string;
}

/** Common fields of the typed helpers for the Tuist server's events. */
export interface ServerEventInput {
  /** Default `dashboard`. */
  section?: PageSection;
  properties?: Readonly<Record<string, unknown>>;
}

export interface UserEventInput extends ServerEventInput {
  userId: string | number;
}

export interface OrganizationCreatedInput extends UserEventInput {
  organization: GroupRef;
}

export interface PreviewEventInput extends ServerEventInput {
  /** Without it the event is anonymous (e.g. a public preview downloaded by a visitor). */
  userId?: string | number;
  project?: GroupRef;
  organization?: GroupRef;
  previewId?: string | number;
}

export interface TokenRefreshErrorInput extends ServerEventInput {
  userId?: string | number;
  /** Why refreshing failed, e.g. `expired` or `invalid`. */
  reason?: string;
}
