export { startTelemetry, getTelemetry } from './telemetry/telemetry.js';
export type { Telemetry } from './telemetry/telemetry.js';
export { TelemetryConfigError } from './config/index.js';
export type {
  TelemetryOptions,
  PrometheusOptions,
  ExporterName,
  OtlpProtocol,
  ClusterOptions,
  ClusterMode,
} from './config/index.js';
export type { ScrapeAuth } from './prometheus/auth.js';
export type { TuistMetrics, RunRecord, TokenRefreshError, JobRecord, AccountsTotals } from './recording/metrics.js';
export type { CacheEventType, NamingProfile } from './catalog/index.js';
export { createMetricReader } from './telemetry/metric-reader.js';
export { tuistInstrumentations } from './instrumentations/index.js';
export type { TuistInstrumentationsOptions, InstrumentationName } from './instrumentations/index.js';
export { catalogViews, type CatalogViewsOptions } from './otel/views.js';
