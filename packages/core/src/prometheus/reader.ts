import { MetricReader } from '@opentelemetry/sdk-metrics';

/**
 * A pull reader for the Prometheus endpoint: it collects the MeterProvider's own (third-party) instruments on each
 * scrape. The catalog is not read through it (the endpoint serialises core's store directly), so it has no
 * metricProducers. Cumulative temporality (the default) keeps scrapes read-only.
 */
export class PullMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
