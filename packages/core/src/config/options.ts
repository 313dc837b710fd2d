// The shapes of the options `startTelemetry` takes and of the configuration it resolves (the value lists are the
// settings table's: settings/lists.ts).
import type { NamingProfile } from '../catalog/index.js';
import type { ScrapeAuth } from '../prometheus/auth.js';
import type {
  ClusterMode,
  ExporterName,
  HistogramAggregation,
  OtlpProtocol,
  ResourceDetectorName,
  TemporalityPreference,
  TracesExporterName,
  TracesSampler,
} from '../settings/lists.js';
import type { NativeHistogramSettings } from '../store/native-histogram.js';

export interface PrometheusOptions {
  /** Interface to listen on; default `OTEL_EXPORTER_PROMETHEUS_HOST`, else all interfaces. */
  host?: string;
  /** Port; default `OTEL_EXPORTER_PROMETHEUS_PORT`, else 9091. 0 picks a free port. */
  port?: number;
  /** Adds `otel_scope_name`/`otel_scope_version` labels to every sample (off by default). */
  withScopeLabels?: boolean;
  /** Serves a `target_info` series with the resource attributes (off by default). */
  withTargetInfo?: boolean;
  /** `_created` samples of counters and histograms in OpenMetrics; default `TUIST_TELEMETRY_OPENMETRICS_CREATED`, else off. */
  withCreated?: boolean;
  /** A scrape response not fully written within this many ms is aborted; default 30000. */
  writeTimeoutMs?: number;
  /** A connection with no traffic (a client that stopped reading, too) is closed after this many ms; default 30000. */
  idleTimeoutMs?: number;
  /** Scrapes served at once; more get 503 with `Retry-After: 1`; default 10. Concurrent scrapes share one body. */
  maxConcurrentScrapes?: number;
  /**
   * Credentials `/metrics` requires (401 with `WWW-Authenticate` otherwise); default
   * `TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN` / `TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH` (`user:password`), else open.
   */
  auth?: ScrapeAuth;
}

export interface ClusterOptions {
  /**
   * `auto` (default; `TUIST_TELEMETRY_CLUSTER`): under `node:cluster` the primary serves one /metrics for every
   * process and workers bind no port; under PM2's cluster mode each instance serves its own port (the configured
   * port plus `NODE_APP_INSTANCE`). `off`: every process serves its own store on the configured port.
   */
  mode?: ClusterMode;
  /** How long a cluster scrape waits for each worker; default `TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS`, else 1000. */
  timeoutMs?: number;
}

export interface TelemetryOptions extends OtelSdkOptions {
  /** Exporters to run; default `OTEL_METRICS_EXPORTER` (comma list), else `prometheus`. `none` anywhere: no exporter. */
  exporters?: readonly ExporterName[] | string;
  prometheus?: PrometheusOptions;
  otlp?: {
    /** Full metrics URL; default from `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`. */
    url?: string;
    protocol?: OtlpProtocol;
  };
  /** Push interval for OTLP and console; default `OTEL_METRIC_EXPORT_INTERVAL`, else 60000. */
  exportIntervalMs?: number;
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `tuist-server`. */
  serviceName?: string;
  /** `service.version` and the `version` label of `tuist_application_info`. */
  serviceVersion?: string;
  /** `docs` (default) or `server`; default `TUIST_TELEMETRY_NAMING`. */
  naming?: NamingProfile;
  /** High-cardinality labels to turn on (`object_key`, `upload_id`, `part_number`) or `all`; default none. */
  highCardinalityLabels?: readonly string[] | 'all';
  /** Distinct values each label keeps per metric before `__overflow__`; default `TUIST_TELEMETRY_MAX_LABEL_VALUES`, else 1000. */
  maxLabelValues?: number;
  /** Series each catalog metric (and each instrument on the MeterProvider) keeps before new label sets overflow; default `TUIST_TELEMETRY_MAX_SERIES_PER_METRIC`, else 2000. */
  maxSeriesPerMetric?: number;
  /** How often polled totals are refreshed; default `TUIST_TELEMETRY_POLL_INTERVAL_MS`, else 600000 (10 minutes). */
  pollIntervalMs?: number;
  /** Node runtime metrics; default `TUIST_TELEMETRY_RUNTIME_METRICS` (anything but `false` is on). */
  runtimeMetrics?: boolean;
  /** Native histogram buckets beside the classic ones (served in protobuf); default `TUIST_TELEMETRY_NATIVE_HISTOGRAMS`, else off. */
  nativeHistograms?: boolean | Partial<NativeHistogramSettings>;
  /** Makes the MeterProvider the global one when none is set yet; default true. */
  setGlobalMeterProvider?: boolean;
  /** Running under `node:cluster` or PM2's cluster mode (see the README). */
  cluster?: ClusterOptions;
  /** The environment to read; default `process.env` (tests pass their own). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedConfig extends ResolvedOtelSettings {
  exporters: ExporterName[];
  prometheus: Required<Omit<PrometheusOptions, 'host' | 'auth'>> & {
    host: string | undefined;
    auth: ScrapeAuth | undefined;
  };
  otlpProtocol: OtlpProtocol;
  otlpUrl: string | undefined;
  /** Where `otlpUrl` and `otlpProtocol` came from (an option or a variable; undefined = the default), for messages. */
  otlpSources: { url: string | undefined; protocol: string | undefined };
  exportIntervalMs: number;
  exportTimeoutMs: number;
  serviceName: string;
  serviceVersion: string | undefined;
  naming: NamingProfile;
  highCardinality: Set<string>;
  maxLabelValues: number;
  maxSeriesPerMetric: number;
  pollIntervalMs: number;
  runtimeMetrics: boolean;
  nativeHistograms: NativeHistogramSettings | undefined;
  setGlobalMeterProvider: boolean;
  cluster: Required<ClusterOptions>;
}

export interface OtelSdkOptions {
  /**
   * Resource detectors, as OpenTelemetry's Node SDK names them (`env`, `host`, `os`, `process`, `serviceinstance`,
   * `all`, `none`); default `OTEL_NODE_RESOURCE_DETECTORS`, else `env,serviceinstance`.
   */
  resourceDetectors?: readonly string[] | string;
  /** `service.instance.id`; default `OTEL_RESOURCE_ATTRIBUTES`' one, else a random UUID per process (`serviceinstance`). */
  serviceInstanceId?: string;
  /** OTLP temporality of the catalog; default `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else `cumulative`. */
  temporalityPreference?: TemporalityPreference;
  /**
   * `base2_exponential_bucket_histogram`: pushes also carry each catalog histogram as an OTLP ExponentialHistogram
   * (from native buckets, turned on for it); default `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`, else
   * `explicit_bucket_histogram` (the documented buckets only).
   */
  histogramAggregation?: HistogramAggregation;
  traces?: {
    /**
     * `otlp`, `console` or both (a list, or a comma list as `OTEL_TRACES_EXPORTER` takes), or `none`; default
     * `OTEL_TRACES_EXPORTER`, else `none`. `none` anywhere in a list means no traces, as OpenTelemetry reads it.
     */
    exporter?: TracesExporterName | readonly TracesExporterName[] | string;
    /** Default `OTEL_TRACES_SAMPLER`, else `parentbased_always_on`. */
    sampler?: TracesSampler;
    /** Ratio for the `*traceidratio` samplers; default `OTEL_TRACES_SAMPLER_ARG`, else 1. */
    samplerArg?: number;
    /** Full traces URL; default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
    url?: string;
    /** Default `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`. */
    protocol?: OtlpProtocol;
  };
}

export interface ResolvedOtelSettings {
  resourceDetectors: ResourceDetectorName[];
  serviceInstanceId: string | undefined;
  temporalityPreference: TemporalityPreference;
  histogramAggregation: HistogramAggregation;
  /** `exporters`: one span processor each, in the order named; empty means no traces. */
  traces: {
    exporters: Exclude<TracesExporterName, 'none'>[];
    sampler: TracesSampler;
    samplerArg: number;
    url: string | undefined;
    protocol: OtlpProtocol;
    /** The option or variable that set `url` and `protocol` (undefined = the default), for messages. */
    sources: { url: string | undefined; protocol: string | undefined };
  };
}
