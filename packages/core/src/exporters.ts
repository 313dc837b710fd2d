import { createRequire } from 'node:module';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricProducer, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpProtocol, ResolvedConfig } from './config.js';

const require = createRequire(import.meta.url);

/**
 * Loads only the OTLP exporter that the protocol needs (grpc pulls in @grpc/grpc-js), synchronously, so that
 * `startTelemetry` stays synchronous: sdk-metrics 2.x takes its readers only in the MeterProvider constructor.
 */
function otlpExporter(protocol: OtlpProtocol, url: string | undefined): PushMetricExporter {
  const pkg =
    protocol === 'grpc'
      ? '@opentelemetry/exporter-metrics-otlp-grpc'
      : protocol === 'http/json'
        ? '@opentelemetry/exporter-metrics-otlp-http'
        : '@opentelemetry/exporter-metrics-otlp-proto';
  const { OTLPMetricExporter } = require(pkg) as { OTLPMetricExporter: new (c?: { url?: string }) => PushMetricExporter };
  return new OTLPMetricExporter(url ? { url } : {});
}

/** One periodic reader per push exporter, each reading core's store through `producer`. */
export function pushReaders(config: ResolvedConfig, producer: MetricProducer): PeriodicExportingMetricReader[] {
  const readers: PeriodicExportingMetricReader[] = [];
  for (const name of config.exporters) {
    let exporter: PushMetricExporter | undefined;
    if (name === 'otlp') exporter = otlpExporter(config.otlpProtocol, config.otlpUrl);
    else if (name === 'console') exporter = new ConsoleMetricExporter();
    if (!exporter) continue;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: config.exportIntervalMs,
        exportTimeoutMillis: config.exportTimeoutMs,
        metricProducers: [producer],
      }),
    );
  }
  return readers;
}
