import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { TelemetryConfigError, type TelemetryOptions } from '../config/index.js';
import { HostMetricReader } from '../otel/host-reader.js';
import { getTelemetry, startTelemetryWith } from './telemetry.js';

/**
 * For apps that run OpenTelemetry's NodeSDK: `new NodeSDK({ metricReader: createMetricReader() })`.
 *
 * Starts the telemetry (the catalog, recorded through `getTelemetry()` as usual) without a MeterProvider of its
 * own, and returns the reader for NodeSDK's MeterProvider, so there is one MeterProvider in the process, NodeSDK's.
 * The exporters still come from `OTEL_METRICS_EXPORTER` (or `options.exporters`): with `prometheus` one `/metrics`
 * serves the catalog, the app's own instruments and the instrumentations' metrics; with `otlp`/`console` each push
 * carries both. `sdk.shutdown()` shuts the telemetry down (flushing the exporters).
 *
 * Called again before NodeSDK took the reader, it returns the same reader (options are then ignored). Throws a
 * TelemetryConfigError when telemetry already runs with its own MeterProvider (`startTelemetry()` or
 * `--import @tuist-telemetry/core/register`), or when the reader is already bound to a MeterProvider.
 */
export function createMetricReader(options?: Omit<TelemetryOptions, 'setGlobalMeterProvider'>): MetricReader {
  const running = getTelemetry();
  if (running) {
    if (running.hostReader && !running.hostReader.isBound) return running.hostReader;
    throw new TelemetryConfigError(
      running.hostReader
        ? 'createMetricReader(): the reader is already taken by a MeterProvider (one reader serves one MeterProvider); pass it to one NodeSDK only'
        : 'createMetricReader(): telemetry already runs with its own MeterProvider (startTelemetry() or --import @tuist-telemetry/core/register); ' +
            'with NodeSDK call createMetricReader() instead of those, or shut the running telemetry down first',
    );
  }
  const reader = new HostMetricReader();
  startTelemetryWith({ ...options, setGlobalMeterProvider: false }, reader);
  return reader;
}
