export { startTelemetry, getTelemetry, Telemetry } from './telemetry.js';
export { TelemetryConfigError, EXPORTER_NAMES, OTLP_PROTOCOLS, CLUSTER_MODES } from './config.js';
export type {
  TelemetryOptions,
  PrometheusOptions,
  ExporterName,
  OtlpProtocol,
  ClusterOptions,
  ClusterMode,
} from './config.js';
export type { TuistMetrics, RunRecord, TokenRefreshError, JobRecord, AccountsTotals } from './metrics.js';
export {
  catalog,
  findMetric,
  exposedName,
  HIGH_CARDINALITY_LABELS,
  CACHE_EVENT_TYPES,
  NAMING_PROFILES,
  B1,
  B2,
  DB_QUERY_BUCKETS,
  JOB_BUCKETS,
  exponentialBuckets,
  clusterAggregationOf,
} from './catalog/index.js';
export type {
  MetricDefinition,
  MetricType,
  NamingProfile,
  CacheEventType,
  ClusterAggregation,
} from './catalog/index.js';
export {
  MetricStore,
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  OVERFLOW_VALUE,
  MAX_LABEL_VALUE_LENGTH,
} from './store.js';
export type { Labels, LabelValue, AnyFamily } from './store.js';
export { RateLimitedLogger, logger, installDefaultDiagLogger } from './diag.js';
export { CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, escapeLabelValue, escapeHelp } from './prometheus/format.js';
export type { ScrapeAuth } from './prometheus/auth.js';
export { startRuntimeMetrics } from './runtime/index.js';
export { catalogViews, type CatalogViewsOptions } from './otel/views.js';
export { createMetricReader } from './sdk.js';
export { tuistInstrumentations, INSTRUMENTATION_NAMES } from './instrumentations/index.js';
export type { TuistInstrumentationsOptions, InstrumentationName } from './instrumentations/index.js';
