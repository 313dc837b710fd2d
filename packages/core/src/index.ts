export { startTelemetry, getTelemetry } from './telemetry.js';
export type { Telemetry } from './telemetry.js';
export { TelemetryConfigError } from './config.js';
export type {
  TelemetryOptions,
  PrometheusOptions,
  ExporterName,
  OtlpProtocol,
  ClusterOptions,
  ClusterMode,
} from './config.js';
export type { ScrapeAuth } from './prometheus/auth.js';
export type { TuistMetrics, RunRecord, TokenRefreshError, JobRecord, AccountsTotals } from './metrics.js';
export type { CacheEventType, NamingProfile } from './catalog/index.js';
export { createMetricReader } from './sdk.js';
export { tuistInstrumentations } from './instrumentations/index.js';
export type { TuistInstrumentationsOptions, InstrumentationName } from './instrumentations/index.js';
export { catalogViews, type CatalogViewsOptions } from './otel/views.js';
