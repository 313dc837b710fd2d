import type { Resource } from '@opentelemetry/resources';
import { MetricReader, type CollectionResult, type MetricProducer } from '@opentelemetry/sdk-metrics';

/** What the running telemetry does when the host's MeterProvider flushes or shuts its readers down. */
export interface HostReaderOwner {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

/**
 * The reader `createMetricReader()` hands to the host's MeterProvider (NodeSDK's `metricReader`). There is then one
 * MeterProvider in the process, the host's; this reader collects it:
 * - for a scrape, next to the catalog that the endpoint writes straight from core's store;
 * - for push exporters (OTLP, console), whose periodic readers core owns: `producer()` feeds them the host's
 *   instruments and their `metricProducers` add the catalog.
 * Cumulative temporality (the default), so a scrape and a push never steal each other's data.
 * Shutting the host's MeterProvider down (NodeSDK's `shutdown()`) shuts the telemetry down, flushing its exporters.
 */
export class HostMetricReader extends MetricReader {
  private owner: HostReaderOwner | undefined;
  private bound = false;
  private closing = false;

  /** @internal set once by the telemetry that this reader serves. */
  attach(owner: HostReaderOwner): void {
    this.owner = owner;
  }

  /** Whether a MeterProvider took this reader (a reader can serve one MeterProvider only). */
  get isBound(): boolean {
    return this.bound;
  }

  private readonly boundCallbacks: (() => void)[] = [];

  /** Runs `fn` once after a MeterProvider took this reader, after the code that created it (NodeSDK's start) ran. */
  whenBound(fn: () => void): void {
    this.boundCallbacks.push(fn);
  }

  protected override onInitialized(): void {
    this.bound = true;
    const callbacks = this.boundCallbacks.splice(0);
    if (callbacks.length) {
      queueMicrotask(() => {
        for (const fn of callbacks) {
          try {
            fn();
          } catch {
            /* never throw into the host's MeterProvider */
          }
        }
      });
    }
  }

  /**
   * The host's instruments as a MetricProducer for core's push readers; empty (with `resource`) until a
   * MeterProvider has taken this reader, so the catalog is pushed even before `sdk.start()`.
   */
  producer(resource: Resource): MetricProducer {
    return {
      collect: async (options): Promise<CollectionResult> => {
        if (!this.bound || this.closing) return { resourceMetrics: { resource, scopeMetrics: [] }, errors: [] };
        return this.collect(options);
      },
    };
  }

  protected override async onShutdown(): Promise<void> {
    // The telemetry's push readers take their last collection through this reader while it shuts down.
    await this.owner?.shutdown();
    this.closing = true;
  }

  protected override async onForceFlush(): Promise<void> {
    await this.owner?.forceFlush();
  }
}
