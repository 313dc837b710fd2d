import { createRequire } from 'node:module';
import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type MetricProducer,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  TelemetryConfigError,
  type OtlpProtocol,
  type ResolvedConfig,
  type TemporalityPreference,
} from '../config/index.js';
import { withExemplars, type MetricsSerializer } from './otlp-exemplars.js';
import { defaultOtlpUrl, observeAttempts, OtlpFailures } from './otlp-failures.js';
import { logger, RateLimitedLogger } from '../diag/index.js';

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
function isMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    !!e &&
    (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`))
  );
}

/**
 * Loads the OTLP exporter package `packages[protocol]` of one signal (metrics: `OTEL_METRICS_EXPORTER`, traces:
 * `OTEL_TRACES_EXPORTER`) synchronously; a missing package is a TelemetryConfigError naming what to install and
 * the variable (`protocolVariable`) that picks another protocol.
 */
export function loadOtlpPackage<M>(
  protocol: OtlpProtocol,
  packages: Readonly<Record<OtlpProtocol, string>>,
  exporterVariable: string,
  protocolVariable: string,
  load: Load,
): M {
  const pkg = packages[protocol];
  try {
    return load(pkg) as M;
  } catch (err) {
    if (!isMissing(err, pkg)) throw err;
    throw new TelemetryConfigError(
      `${exporterVariable}=otlp with protocol ${protocol} needs ${pkg}: npm install ${pkg}@${OTLP_EXPORTER_VERSION} ` +
        `(or choose another protocol with ${protocolVariable}: ${Object.keys(packages).join(', ')})`,
    );
  }
}

/** The exporters' `AggregationTemporalityPreference` values (a numeric enum of exporter-metrics-otlp-http). */
const TEMPORALITY: Readonly<Record<TemporalityPreference, number>> = { delta: 0, cumulative: 1, lowmemory: 2 };

/**
 * Loads only the OTLP exporter that the protocol needs (grpc pulls in @grpc/grpc-js), synchronously, so that
 * `startTelemetry` stays synchronous: sdk-metrics 2.x takes its readers only in the MeterProvider constructor.
 * A missing package is a configuration mistake: it throws a TelemetryConfigError naming what to install.
 */
export function otlpExporter(
  protocol: OtlpProtocol,
  url: string | undefined,
  load: Load = require,
  temporality?: TemporalityPreference,
  failures?: OtlpFailures,
): PushMetricExporter {
  const pkg = OTLP_EXPORTER_PACKAGES[protocol];
  const mod = loadOtlpPackage<{
    OTLPMetricExporter: new (c?: { url?: string; temporalityPreference?: number }) => PushMetricExporter;
  }>(protocol, OTLP_EXPORTER_PACKAGES, 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', load);
  const options = {
    ...(url ? { url } : {}),
    ...(temporality ? { temporalityPreference: TEMPORALITY[temporality] } : {}),
  };
  const exporter = exporterWithExemplars(protocol, pkg, options, failures) ?? new mod.OTLPMetricExporter(options);
  return failures ? failures.exporter(exporter) : exporter;
}

type Delegate = unknown;
interface ExporterParts {
  OTLPMetricExporterBase: new (delegate: Delegate, config: object) => PushMetricExporter;
  JsonMetricsSerializer: MetricsSerializer;
  ProtobufMetricsSerializer: MetricsSerializer;
  MetricsExporterMetricsHelper: unknown;
  convertLegacyHttpOptions(config: object, signal: string, path: string, headers: Record<string, string>): unknown;
  createOtlpHttpExportDelegate(
    options: unknown,
    serializer: MetricsSerializer,
    component: string,
    helper: unknown,
    meterProvider: undefined,
  ): Delegate;
  convertLegacyOtlpGrpcOptions(config: object, signal: string): unknown;
  createOtlpGrpcExportDelegate(
    options: unknown,
    serializer: MetricsSerializer,
    component: string,
    helper: unknown,
    meterProvider: undefined,
    service: string,
    method: string,
  ): Delegate;
}

/**
 * The OTLP exporter of `protocol` built as its package builds it (otlp-exporter-base's export delegate around an
 * otlp-transformer serializer, in exporter-metrics-otlp-http's OTLPMetricExporterBase; read in their 0.223 code),
 * with one change: the serializer also writes the catalog's histogram exemplars, which the stock one drops (see
 * otel/otlp-exemplars.ts). The parts are loaded from the exporter package's own dependencies, so they are the
 * copies it would use. If a future version moved them, the stock exporter is used instead, without exemplars.
 */
function exporterWithExemplars(
  protocol: OtlpProtocol,
  pkg: string,
  config: object,
  failures: OtlpFailures | undefined,
): PushMetricExporter | undefined {
  try {
    const from = createRequire(require.resolve(pkg));
    const base =
      protocol === 'grpc' ? '@opentelemetry/otlp-grpc-exporter-base' : '@opentelemetry/otlp-exporter-base/node-http';
    const httpExporter = protocol === 'http/json' ? from(pkg) : from('@opentelemetry/exporter-metrics-otlp-http');
    const p = {
      ...(from('@opentelemetry/otlp-transformer') as object),
      ...(from(base) as object),
      ...(httpExporter as object),
    } as ExporterParts;
    let delegate: Delegate;
    if (protocol === 'grpc') {
      const serializer = withExemplars(p.ProtobufMetricsSerializer, 'protobuf');
      const options = p.convertLegacyOtlpGrpcOptions(config, 'METRICS');
      delegate = p.createOtlpGrpcExportDelegate(
        options,
        serializer,
        'otlp_grpc_metric_exporter',
        p.MetricsExporterMetricsHelper,
        undefined,
        'MetricsExportService',
        '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      );
    } else {
      const json = protocol === 'http/json';
      const serializer = withExemplars(
        json ? p.JsonMetricsSerializer : p.ProtobufMetricsSerializer,
        json ? 'json' : 'protobuf',
      );
      const options = p.convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
        'Content-Type': json ? 'application/json' : 'application/x-protobuf',
      });
      delegate = p.createOtlpHttpExportDelegate(
        options,
        serializer,
        'otlp_http_metric_exporter',
        p.MetricsExporterMetricsHelper,
        undefined,
      );
    }
    if (failures) observeAttempts(delegate, failures);
    return new p.OTLPMetricExporterBase(delegate, config);
  } catch (err) {
    logger('core').warn(
      `OTLP metric exports will carry no exemplars: ${pkg} is not laid out as version ${OTLP_EXPORTER_VERSION} (${String(err)})`,
    );
    return undefined;
  }
}

/** A periodic reader whose OTLP exporter's last export is bounded when it shuts down (see OtlpFailures). */
class PushReader extends PeriodicExportingMetricReader {
  constructor(
    options: ConstructorParameters<typeof PeriodicExportingMetricReader>[0],
    private readonly failures: OtlpFailures | undefined,
  ) {
    super(options);
  }

  protected override async onShutdown(): Promise<void> {
    this.failures?.close();
    await super.onShutdown();
  }
}

/**
 * One periodic reader per push exporter, each reading core's store through `producer`. OTLP failures are reported
 * through `warnings` (one readable line per kind per minute) and the final flush is bounded (otel/otlp-failures.ts).
 */
export function pushReaders(
  config: ResolvedConfig,
  producer: MetricProducer | (() => MetricProducer),
  warnings: RateLimitedLogger = new RateLimitedLogger(logger('core')),
): PeriodicExportingMetricReader[] {
  const readers: PeriodicExportingMetricReader[] = [];
  for (const name of config.exporters) {
    let exporter: PushMetricExporter | undefined;
    let failures: OtlpFailures | undefined;
    if (name === 'otlp') {
      const target = {
        signal: 'metrics' as const,
        url: config.otlpUrl ?? defaultOtlpUrl(config.otlpProtocol, 'metrics'),
        protocol: config.otlpProtocol,
        urlFrom: config.otlpSources.url,
        protocolFrom: config.otlpSources.protocol,
      };
      // An export ends a little before the reader's timeout, so the reader never cuts one off unexplained.
      const budgetMs = Math.max(1, config.exportTimeoutMs - Math.min(50, Math.floor(config.exportTimeoutMs / 10)));
      failures = new OtlpFailures(target, budgetMs, warnings);
      // The temporality preference applies to the MeterProvider's own instruments too (the catalog's producer
      // follows it by itself), also when it comes from options rather than the environment the exporter reads.
      exporter = otlpExporter(config.otlpProtocol, config.otlpUrl, require, config.temporalityPreference, failures);
    } else if (name === 'console') exporter = new ConsoleMetricExporter();
    if (!exporter) continue;
    const options = {
      exporter,
      exportIntervalMillis: config.exportIntervalMs,
      exportTimeoutMillis: config.exportTimeoutMs,
      // One producer per reader: a delta producer remembers what its reader exported last.
      metricProducers: [typeof producer === 'function' ? producer() : producer],
    };
    readers.push(new PushReader(options, failures));
  }
  return readers;
}
