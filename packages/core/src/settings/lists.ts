// The valid values of the enumerated settings (the table in table.ts, the option types in config/options.ts).

export const EXPORTER_NAMES = ['prometheus', 'otlp', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const CLUSTER_MODES = ['auto', 'off'] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];
export const RESOURCE_DETECTOR_NAMES = ['env', 'host', 'os', 'process', 'serviceinstance'] as const;
export type ResourceDetectorName = (typeof RESOURCE_DETECTOR_NAMES)[number];
export const TEMPORALITY_PREFERENCES = ['cumulative', 'delta', 'lowmemory'] as const;
export type TemporalityPreference = (typeof TEMPORALITY_PREFERENCES)[number];
export const HISTOGRAM_AGGREGATIONS = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'] as const;
export type HistogramAggregation = (typeof HISTOGRAM_AGGREGATIONS)[number];
export const TRACES_EXPORTER_NAMES = ['otlp', 'console', 'none'] as const;
export type TracesExporterName = (typeof TRACES_EXPORTER_NAMES)[number];
export const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

/** The Tuist instrumentations, by the short names `OTEL_NODE_ENABLED_INSTRUMENTATIONS` takes. */
export const INSTRUMENTATION_NAMES = ['pg', 'undici', 'aws-sdk', 'http'] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/** `OTEL_LOG_LEVEL`'s levels, as OpenTelemetry names them. */
export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
