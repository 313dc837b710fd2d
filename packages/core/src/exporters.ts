import { createRequire } from 'node:module';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricProducer, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { TelemetryConfigError, type OtlpProtocol, type ResolvedConfig, type TemporalityPreference } from './config.js';

const require = createRequire(import.meta.url);

/**
 * The package each OTLP protocol needs. They are optional peer dependencies of core (a Prometheus-only install
 * does not carry gRPC and protobuf), so the user installs the one the protocol names; the version matches
 * core's OpenTelemetry line.
 */
export const OTLP_EXPORTER_PACKAGES: Readonly<Record<OtlpProtocol, string>> = {
  grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
};
/** The version of the OTLP exporters core is built and tested against. */
export const OTLP_EXPORTER_VERSION = '0.223.0';

type Load = (pkg: string) => unknown;

/** True when `err` says that `pkg` itself (not something it imports) cannot be found. */
export function isMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    !!e &&
    (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`))
  );
}

/**
 * Loads only the OTLP exporter that the protocol needs (grpc pulls in @grpc/grpc-js), synchronously, so that
 * `startTelemetry` stays synchronous: sdk-metrics 2.x takes its readers only in the MeterProvider constructor.
 * A missing package is a configuration mistake: it throws a TelemetryConfigError naming what to install.
 */
/** The exporters' `AggregationTemporalityPreference` values (a numeric enum of exporter-metrics-otlp-http). */
const TEMPORALITY: Readonly<Record<TemporalityPreference, number>> = { delta: 0, cumulative: 1, lowmemory: 2 };

export function otlpExporter(
  protocol: OtlpProtocol,
  url: string | undefined,
  load: Load = require,
  temporality?: TemporalityPreference,
): PushMetricExporter {
  const pkg = OTLP_EXPORTER_PACKAGES[protocol];
  let mod: { OTLPMetricExporter: new (c?: { url?: string; temporalityPreference?: number }) => PushMetricExporter };
  try {
    mod = load(pkg) as typeof mod;
  } catch (err) {
    if (!isMissing(err, pkg)) throw err;
    throw new TelemetryConfigError(
      `OTEL_METRICS_EXPORTER=otlp with protocol ${protocol} needs ${pkg}: npm install ${pkg}@${OTLP_EXPORTER_VERSION} ` +
        `(or choose another protocol with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: ${Object.keys(OTLP_EXPORTER_PACKAGES).join(', ')})`,
    );
  }
  return new mod.OTLPMetricExporter({ ...(url ? { url } : {}), ...(temporality ? { temporalityPreference: TEMPORALITY[temporality] } : {}) });
}

/** One periodic reader per push exporter, each reading core's store through `producer`. */
export function pushReaders(config: ResolvedConfig, producer: MetricProducer | (() => MetricProducer)): PeriodicExportingMetricReader[] {
  const readers: PeriodicExportingMetricReader[] = [];
  for (const name of config.exporters) {
    let exporter: PushMetricExporter | undefined;
    // The temporality preference applies to the MeterProvider's own instruments too (the catalog's producer
    // follows it by itself), also when it comes from options rather than the environment the exporter reads.
    if (name === 'otlp') exporter = otlpExporter(config.otlpProtocol, config.otlpUrl, require, config.temporalityPreference);
    else if (name === 'console') exporter = new ConsoleMetricExporter();
    if (!exporter) continue;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: config.exportIntervalMs,
        exportTimeoutMillis: config.exportTimeoutMs,
        // One producer per reader: a delta producer remembers what its reader exported last.
        metricProducers: [typeof producer === 'function' ? producer() : producer],
      }),
    );
  }
  return readers;
}
