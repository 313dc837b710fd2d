import { randomUUID } from 'node:crypto';
import { logger, RateLimitedLogger } from '@tuist-telemetry/core/internal';
import { resolveConfig, type ResolvedAnalyticsConfig } from './config.js';
import { TUIST_EVENTS } from './events.js';
import { GROUP_TYPES, idOf, messageOf, type Properties } from './input.js';
import { createMiddleware, type PageviewSink } from './middleware.js';
import { renderSnippet } from './snippet.js';
import { PostHogTransport } from './transport.js';
import type {
  AnalyticsMiddleware,
  AnalyticsOptions,
  CaptureInput,
  DropReason,
  GroupInput,
  GroupRef,
  Groups,
  IdentifyInput,
  MiddlewareOptions,
  OrganizationCreatedInput,
  PageSection,
  PageviewInput,
  PreviewEventInput,
  RequestLike,
  RequestUser,
  SnippetOptions,
  TokenRefreshErrorInput,
  UserEventInput,
} from './types.js';
import { UserMemory } from './user-memory.js';
import { isPageSection, PAGE_SECTIONS } from './page.js';
import { TelemetryLink } from './telemetry-link.js';

const log = logger('analytics');

/**
 * PostHog analytics for a Tuist-like server. Enabled only when both the API key and the host are set; otherwise
 * every method is a no-op (no client, no socket, no timer). Methods never throw into the caller.
 */
export class Analytics {
  /** True when both `TUIST_POSTHOG_API_KEY` and `TUIST_POSTHOG_URL` (or the options) are set. */
  readonly enabled: boolean;
  /** PostHog's origin (`https://eu.i.posthog.com`), to exclude its traffic from HTTP client metrics. */
  readonly origin: string | undefined;
  private readonly config: Readonly<ResolvedAnalyticsConfig>;

  private readonly transport: PostHogTransport | undefined;
  private readonly pathPrefix: string;
  private readonly users: UserMemory;
  private readonly warnings = new RateLimitedLogger(log);
  private readonly link: TelemetryLink;
  private shutdownPromise: Promise<void> | undefined;
  private closed = false;

  /** @internal use `createAnalytics` */
  constructor(options?: AnalyticsOptions) {
    this.config = resolveConfig(options);
    this.enabled = this.config.enabled;
    this.origin = this.config.enabled ? this.config.origin : undefined;
    this.pathPrefix = this.config.host ? new URL(this.config.host).pathname.replace(/\/+$/, '') : '';
    this.link = new TelemetryLink(options?.telemetry, this.warnings);
    this.users = new UserMemory(this.config.maxRememberedUsers);
    if (this.enabled) {
      this.transport = new PostHogTransport(this.config, {
        dropped: (reason, count) => this.countDropped(reason, count),
        sendFailed: (err) =>
          this.warnings.warn(
            'send',
            `@tuist-telemetry/analytics: could not send events to ${this.origin}: ${messageOf(err)}`,
          ),
      });
      this.attachTelemetry();
    }
  }

  /**
   * True for requests to PostHog: pass it as `ignore` to `@tuist-telemetry/http` so posthog-node's own traffic
   * (global `fetch`) stays out of the `tuist_http_*` metrics. Bound; safe to pass as a callback.
   */
  readonly ignoreRequest = (origin: string, path?: string): boolean => {
    if (this.origin === undefined || typeof origin !== 'string') return false;
    let sameOrigin = origin === this.origin;
    if (!sameOrigin) {
      try {
        sameOrigin = new URL(origin).origin === this.origin;
      } catch {
        return false;
      }
    }
    // A host with a path (a reverse proxy such as https://tuist.dev/ingest) only covers requests under that path.
    const prefix = this.pathPrefix;
    if (!sameOrigin || prefix === '' || typeof path !== 'string') return sameOrigin;
    return path === prefix || path.startsWith(prefix + '/') || path.startsWith(prefix + '?');
  };

  /** `$identify` with the email as a person property, then `$create_alias` with the account name. */
  identify(input: IdentifyInput): void {
    this.guard(() => {
      const id = idOf(input?.id);
      if (id === undefined) return this.invalid('identify() needs the user id');
      const section = input.section ?? 'dashboard';
      this.send('$identify', section, id, { $set: input.email ? { email: String(input.email) } : {} });
      const alias = idOf(input.accountName);
      if (alias !== undefined && alias !== id) this.send('$create_alias', section, id, { distinct_id: id, alias });
    });
  }

  /** `$groupidentify` for the project and the organization; the user's later events carry them in `$groups`. */
  group(input: GroupInput): void {
    this.guard(() => {
      const id = idOf(input?.distinctId);
      if (id === undefined) return this.invalid('group() needs distinctId');
      const section = input.section ?? 'dashboard';
      if (!isPageSection(section)) return this.rejectSection(section);
      for (const type of GROUP_TYPES) {
        const ref = input[type];
        const key = idOf(ref?.id);
        if (ref === undefined) continue;
        if (key === undefined) {
          this.invalid(`group(): ${type}.id is missing`);
          continue;
        }
        if (this.enabled) this.users.upsert(id).groups[type] = key;
        this.send('$groupidentify', section, id, {
          $group_type: type,
          $group_key: key,
          $group_set: ref.name !== undefined ? { name: String(ref.name) } : {},
        });
      }
    });
  }

  /** A custom event. Without `distinctId` it is anonymous: random in-memory id, `$process_person_profile: false`. */
  capture(input: CaptureInput): void {
    this.guard(() => {
      if (typeof input?.event !== 'string' || input.event.trim() === '')
        return this.invalid('capture() needs an event name');
      this.send(input.event, input.section, input.distinctId, input.properties, input.groups);
    });
  }

  /** PostHog's `$pageview` for `url`. */
  pageview(input: PageviewInput): void {
    this.guard(() => {
      let url: URL;
      try {
        url = new URL(input?.url);
      } catch {
        return this.invalid(`pageview() needs an absolute url, got ${JSON.stringify(input?.url)}`);
      }
      const props: Properties = { $current_url: url.href, $host: url.host, $pathname: url.pathname };
      if (input.referrer) props.$referrer = input.referrer;
      this.send('$pageview', input.section, input.distinctId, props, input.groups);
    });
  }

  /** `(req, res, next)`: a `$pageview` per server-rendered page navigation (see README). */
  middleware<Req extends RequestLike = RequestLike>(options?: MiddlewareOptions<Req>): AnalyticsMiddleware<Req> {
    return createMiddleware(this.enabled ? this.sink : undefined, options);
  }

  /** The `<script>` that loads posthog-js in the page; '' when analytics is disabled or the section is invalid. */
  browserSnippet(options: SnippetOptions): string {
    try {
      if (!this.enabled) return '';
      if (!isPageSection(options?.section)) {
        this.rejectSection(options?.section);
        return '';
      }
      return renderSnippet(
        { apiKey: this.config.apiKey!, host: this.config.host!, scriptSrc: this.config.scriptSrc! },
        options,
      );
    } catch (err) {
      this.warnings.warn('snippet', `@tuist-telemetry/analytics: browserSnippet() failed: ${messageOf(err)}`);
      return '';
    }
  }

  /** `user_create` */
  userCreated(input: UserEventInput): void {
    this.serverEvent(TUIST_EVENTS.userCreated, input, input?.userId, {});
  }

  /** `user_authenticate` */
  userAuthenticated(input: UserEventInput): void {
    this.serverEvent(TUIST_EVENTS.userAuthenticated, input, input?.userId, {});
  }

  /** `organization_create`, in the new organization's group. */
  organizationCreated(input: OrganizationCreatedInput): void {
    this.serverEvent(TUIST_EVENTS.organizationCreated, input, input?.userId, {}, { organization: input?.organization });
  }

  /** `preview_upload`, in the project's and organization's groups. */
  previewUploaded(input: PreviewEventInput): void {
    this.serverEvent(TUIST_EVENTS.previewUploaded, input, input?.userId, this.previewProps(input), input);
  }

  /** `preview_download`, in the project's and organization's groups. */
  previewDownloaded(input: PreviewEventInput): void {
    this.serverEvent(TUIST_EVENTS.previewDownloaded, input, input?.userId, this.previewProps(input), input);
  }

  /** `authentication_token_refresh_error` */
  tokenRefreshError(input: TokenRefreshErrorInput = {}): void {
    this.serverEvent(
      TUIST_EVENTS.tokenRefreshError,
      input,
      input?.userId,
      input?.reason !== undefined ? { reason: String(input.reason) } : {},
    );
  }

  /**
   * Sends what is queued and stops: resolves within `shutdownTimeoutMs` (default 5 s) even when PostHog is down or
   * never answers, and leaves no timer or socket behind. Events still queued then are counted as dropped
   * (`reason="shutdown"`). Idempotent.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.closed = true;
    this.link.detachShutdown();
    const transport = this.transport;
    if (transport) {
      const timeout = this.config.shutdownTimeoutMs;
      // Leave posthog-node time to finish a retry pause after in-flight requests are aborted.
      const reserve = Math.min(this.config.fetchRetryDelayMs + 250, Math.floor(timeout / 2));
      try {
        await transport.drain(timeout, reserve);
      } catch (err) {
        this.warnings.warn('shutdown', `@tuist-telemetry/analytics: shutdown failed: ${messageOf(err)}`);
      }
    }
    this.link.detachExclusion();
    this.users.clear();
  }

  private readonly sink: PageviewSink = {
    pageviewFromRequest: ({ url, section, user, referrer, identify }) => {
      const id = idOf(user?.id);
      if (id !== undefined && user && identify) this.rememberUser(id, user);
      this.pageview({ url, section, distinctId: id, referrer });
    },
    hookFailed: (hook, err) =>
      this.warnings.warn(
        `hook:${hook}`,
        `@tuist-telemetry/analytics: ${hook} threw; no page view recorded: ${messageOf(err)}`,
      ),
  };

  /** Identifies a request's user the first time (or when their email/alias changed) and follows their groups. */
  private rememberUser(id: string, user: RequestUser): void {
    const fingerprint = JSON.stringify([user.email ?? null, user.accountName ?? null]);
    const known = this.users.get(id);
    if (known?.identified !== fingerprint && (user.email || user.accountName)) {
      this.identify({ id, email: user.email, accountName: user.accountName });
      this.users.upsert(id).identified = fingerprint;
    }
    const changed: Partial<Record<(typeof GROUP_TYPES)[number], GroupRef>> = {};
    let any = false;
    for (const type of GROUP_TYPES) {
      const ref = user[type];
      const key = idOf(ref?.id);
      if (ref && key !== undefined && this.users.get(id)?.groups[type] !== key) {
        changed[type] = ref;
        any = true;
      }
    }
    if (any) this.group({ distinctId: id, ...changed });
  }

  private serverEvent(
    event: string,
    input: { section?: PageSection; properties?: Readonly<Properties> } | undefined,
    userId: unknown,
    props: Properties,
    refs?: { project?: GroupRef; organization?: GroupRef },
  ): void {
    this.guard(() => {
      const groups: Record<string, string> = {};
      for (const type of GROUP_TYPES) {
        const key = idOf(refs?.[type]?.id);
        if (key !== undefined) groups[type] = key;
      }
      const distinctId = idOf(userId);
      if (
        event !== TUIST_EVENTS.previewDownloaded &&
        event !== TUIST_EVENTS.previewUploaded &&
        event !== TUIST_EVENTS.tokenRefreshError &&
        distinctId === undefined
      ) {
        return this.invalid(`${event}: userId is missing`);
      }
      this.send(event, input?.section ?? 'dashboard', distinctId, { ...input?.properties, ...props }, groups);
    });
  }

  private previewProps(input: PreviewEventInput | undefined): Properties {
    const id = idOf(input?.previewId);
    return id !== undefined ? { preview_id: id } : {};
  }

  /** The one path every event takes: validation, `page_section`, anonymous handling, remembered groups. */
  private send(
    event: string,
    section: unknown,
    distinctId: unknown,
    properties?: Readonly<Properties>,
    groups?: Groups,
  ): void {
    if (!isPageSection(section)) return this.rejectSection(section);
    const transport = this.transport;
    if (!transport) return;
    if (this.closed) {
      this.warnings.warn(
        'closed',
        `@tuist-telemetry/analytics: "${event}" was captured after shutdown() and was dropped`,
      );
      return this.countDropped('shutdown', 1);
    }
    if (!this.link.attached) this.attachTelemetry();
    const props: Properties = properties !== null && typeof properties === 'object' ? { ...properties } : {};
    props.page_section = section;
    let id = idOf(distinctId);
    const merged: Record<string, string> = {};
    if (id === undefined) {
      id = randomUUID();
      props.$process_person_profile = false;
    } else {
      Object.assign(merged, this.users.get(id)?.groups);
    }
    if (groups !== null && typeof groups === 'object') {
      for (const [type, key] of Object.entries(groups)) {
        const k = idOf(key);
        if (k !== undefined) merged[type] = k;
      }
    }
    transport.capture({
      distinctId: id,
      event,
      properties: props,
      ...(Object.keys(merged).length ? { groups: merged } : {}),
    });
  }

  private rejectSection(section: unknown): void {
    this.warnings.warn(
      'section',
      `@tuist-telemetry/analytics: page section ${JSON.stringify(section)} is not one of ${PAGE_SECTIONS.join(', ')}; the event was not sent`,
    );
    this.countDropped('invalid_section', 1);
  }

  private invalid(message: string): void {
    this.warnings.warn(`invalid:${message}`, `@tuist-telemetry/analytics: ${message}; the event was not sent`);
    this.countDropped('invalid_event', 1);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warnings.warn('internal', `@tuist-telemetry/analytics: an event was dropped: ${messageOf(err)}`);
    }
  }

  /** Flushes with the telemetry's shutdown and keeps PostHog's traffic out of its HTTP metrics (see TelemetryLink). */
  private attachTelemetry(): void {
    if (!this.closed) this.link.attach(() => this.shutdown(), this.ignoreRequest);
  }

  private countDropped(reason: DropReason, count: number): void {
    if (this.enabled) this.link.countDropped(reason, count);
  }
}

/** Creates analytics from options and the environment (`TUIST_POSTHOG_API_KEY`, `TUIST_POSTHOG_URL`). */
export function createAnalytics(options?: AnalyticsOptions): Analytics {
  return new Analytics(options);
}
