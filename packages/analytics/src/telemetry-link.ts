import { activeTelemetry, type Telemetry, type RateLimitedLogger } from '@tuist-telemetry/core/internal';
import { DROPPED_METRIC } from './events.js';
import { messageOf } from './input.js';
import type { DropReason } from './types.js';

/**
 * An analytics instance's tie to core telemetry: the telemetry it counts dropped events in (the one passed as the
 * `telemetry` option, else the running one; `null` for none), whose shutdown flushes analytics, and whose HTTP
 * metrics leave PostHog's own traffic out.
 */
export class TelemetryLink {
  private registeredWith: Telemetry | undefined;
  private unregister: (() => void) | undefined;
  private unexclude: (() => void) | undefined;

  constructor(
    private readonly option: Telemetry | null | undefined,
    private readonly warnings: RateLimitedLogger,
  ) {}

  /** Registered with a telemetry's shutdown already. */
  get attached(): boolean {
    return this.registeredWith !== undefined;
  }

  telemetry(): Telemetry | undefined {
    return this.option === undefined ? activeTelemetry() : (this.option ?? undefined);
  }

  /**
   * Flushes analytics (`shutdown`) during the telemetry's shutdown (SIGTERM with `@tuist-telemetry/core/register`),
   * and keeps posthog-node's traffic (the global fetch) out of the tuist_http_* metrics until `detachExclusion()`.
   */
  attach(shutdown: () => Promise<void>, ignoreRequest: (origin: string, path?: string) => boolean): void {
    const t = this.telemetry();
    if (!t || t === this.registeredWith) return;
    this.unregister?.();
    this.registeredWith = t;
    this.unregister = t.onShutdown(shutdown);
    this.unexclude?.();
    this.unexclude = t.excludeFromHttpMetrics(ignoreRequest);
  }

  /** Stops flushing with the telemetry's shutdown (analytics is shutting down itself). */
  detachShutdown(): void {
    this.unregister?.();
    this.unregister = undefined;
  }

  /** Lets PostHog's traffic into the HTTP metrics again (after the last flush). */
  detachExclusion(): void {
    this.unexclude?.();
    this.unexclude = undefined;
  }

  /** Counts `count` dropped events in `tuist_analytics_events_dropped_total{reason}`; never throws. */
  countDropped(reason: DropReason, count: number): void {
    if (count <= 0) return;
    try {
      this.telemetry()?.store.counter(DROPPED_METRIC).add(count, { reason });
    } catch (err) {
      this.warnings.warn('count', `@tuist-telemetry/analytics: could not count dropped events: ${messageOf(err)}`);
    }
  }
}
