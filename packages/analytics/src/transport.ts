import { PostHog } from 'posthog-node';
import type { ResolvedAnalyticsConfig } from './config.js';
import type { DropReason } from './types.js';

export interface TransportHooks {
  /** Events lost for `reason`. */
  dropped(reason: DropReason, count: number): void;
  /** A send failed after its retries (events that failed on the network stay queued for the next send). */
  sendFailed(err: unknown): void;
}

type FetchOptions = Parameters<PostHog['fetch']>[1];
type FetchResult = ReturnType<PostHog['fetch']>;
type BatchMessages = Parameters<PostHog['sendBatch']>[0];

/** The answer to a send attempted while shutting down: a non-retryable status, so posthog-node stops retrying. */
const REFUSED_STATUS = 400;

function isNetworkError(err: unknown): boolean {
  return err instanceof Error && err.name === 'PostHogFetchNetworkError';
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; the timer never keeps the process alive. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * posthog-node's client with bounded sending: drops are reported instead of happening silently (a full queue drops
 * its oldest event, a batch PostHog refuses is discarded), background send failures are reported instead of
 * printed with `console.error`, and `drain` flushes within a deadline, then aborts whatever is still in flight.
 */
export class PostHogTransport extends PostHog {
  private readonly inFlight = new AbortController();
  /** Sends are refused (no request is made) once the drain deadline is near. */
  private refusing = false;
  /** The drain is over: the queue was counted and cleared, late events are dropped. */
  private closed = false;
  private readonly hooks: TransportHooks;
  private readonly maxQueue: number;

  constructor(config: ResolvedAnalyticsConfig, hooks: TransportHooks) {
    super(config.apiKey!, {
      host: config.host,
      flushAt: config.flushAt,
      flushInterval: config.flushIntervalMs,
      maxQueueSize: config.maxQueueSize,
      requestTimeout: config.requestTimeoutMs,
      fetchRetryCount: config.fetchRetryCount,
      fetchRetryDelay: config.fetchRetryDelayMs,
      persistence: 'memory',
      disableGeoip: true,
      preloadFeatureFlags: false,
      featureFlagsPollingInterval: null,
      enableExceptionAutocapture: false,
    });
    this.hooks = hooks;
    this.maxQueue = config.maxQueueSize;
  }

  /** Every request posthog-node makes goes through here (global `fetch`, abortable at shutdown). */
  override fetch(url: string, options: FetchOptions): FetchResult {
    if (this.refusing) {
      return Promise.resolve(new Response(null, { status: REFUSED_STATUS, statusText: 'analytics is shutting down' }));
    }
    const own = this.inFlight.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, own]) : own;
    return globalThis.fetch(url, { ...options, signal } as RequestInit) as unknown as FetchResult;
  }

  /** Events waiting to be sent. */
  queueLength(): number {
    let n = 0;
    for (const route of this.getActiveQueueRoutes()) {
      n += (this.getPersistedProperty(this.persistedQueueKeyForRoute(route)) as unknown[] | undefined)?.length ?? 0;
    }
    return n;
  }

  protected override enqueue(...args: Parameters<PostHog['enqueue']>): void {
    if (this.closed) {
      this.hooks.dropped('shutdown', 1);
      return;
    }
    // posthog-node drops the oldest queued event to make room; count it.
    if (this.queueLength() >= this.maxQueue) this.hooks.dropped('queue_full', 1);
    super.enqueue(...args);
  }

  protected override async sendBatch(
    batch: BatchMessages,
    ...rest: Parameters<PostHog['sendBatch']> extends [unknown, ...infer R] ? R : never
  ): Promise<void> {
    try {
      await super.sendBatch(batch, ...rest);
    } catch (err) {
      // A network failure leaves the batch queued for the next send; a 413 splits it. Anything else discards it.
      const split = statusOf(err) === 413 && batch.length > 1;
      if (!isNetworkError(err) && !split && !this.closed) {
        this.hooks.dropped(this.refusing ? 'shutdown' : 'rejected', batch.filter((m) => m !== undefined).length);
      }
      throw err;
    }
  }

  protected override flushAutomatic(): Promise<void> {
    // posthog-node prints background failures with console.error; report them instead.
    return super.flushAutomatic().catch((err: unknown) => this.reportFailure(err));
  }

  /**
   * Sends what is queued within `timeoutMs`. `reserveMs` before the deadline, requests still in flight are aborted
   * and further sends refused, so posthog-node's retry loop ends (its pause between retries is a plain timer that
   * cannot be cancelled). Whatever is still queued at the deadline is counted as dropped and discarded.
   */
  async drain(timeoutMs: number, reserveMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.stopFlushTimer();
    const flushing = this.flushUntilEmpty();
    if (!(await settlesWithin(flushing, timeoutMs - reserveMs))) {
      this.refuse();
      await settlesWithin(flushing, deadline - Date.now());
    }
    this.refuse();
    this.closed = true;
    this.stopFlushTimer();
    let left = 0;
    for (const route of this.getActiveQueueRoutes()) {
      const key = this.persistedQueueKeyForRoute(route);
      left += (this.getPersistedProperty(key) as unknown[] | undefined)?.length ?? 0;
      this.setPersistedProperty(key, []);
    }
    if (left > 0) this.hooks.dropped('shutdown', left);
  }

  private reportFailure(err: unknown): void {
    if (!this.refusing) this.hooks.sendFailed(err);
  }

  private refuse(): void {
    this.refusing = true;
    this.inFlight.abort();
  }

  private stopFlushTimer(): void {
    if (this._flushTimer !== undefined) clearTimeout(this._flushTimer);
    this._flushTimer = undefined;
  }

  private async flushUntilEmpty(): Promise<void> {
    let before = -1;
    for (;;) {
      try {
        await this.flush(); // also waits for events still being prepared
      } catch (err) {
        this.reportFailure(err);
        return;
      }
      const left = this.queueLength();
      if (left === 0 || left === before || this.refusing) return;
      before = left;
    }
  }
}
