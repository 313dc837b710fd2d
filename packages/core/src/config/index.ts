import { scrapeAuthProblem, type ScrapeAuth } from '../prometheus/auth.js';
import { HIGH_CARDINALITY_LABELS, NAMING_PROFILES, type NamingProfile } from '../catalog/index.js';
import { TelemetryConfigError, MAX_MS, bool, envVar, exporterList, intSetting, integer, oneOf } from './values.js';
import { NATIVE_DEFAULTS, type NativeHistogramSettings } from '../store/native-histogram.js';

export { TelemetryConfigError };

export const EXPORTER_NAMES = ['prometheus', 'otlp', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

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

export const CLUSTER_MODES = ['auto', 'off'] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];

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

/** Native histogram settings from the option or `TUIST_TELEMETRY_NATIVE_HISTOGRAMS`; undefined: off. */
function nativeSettings(
  option: boolean | Partial<NativeHistogramSettings> | undefined,
  env: Readonly<Record<string, string | undefined>>,
): NativeHistogramSettings | undefined {
  const raw = envVar(env, 'TUIST_TELEMETRY_NATIVE_HISTOGRAMS');
  const on =
    option !== undefined
      ? option !== false
      : raw !== undefined
        ? bool('TUIST_TELEMETRY_NATIVE_HISTOGRAMS', raw)
        : false;
  if (!on) return undefined;
  const s = { ...NATIVE_DEFAULTS, ...(typeof option === 'object' ? option : {}) };
  if (!(s.bucketFactor > 1 && s.bucketFactor <= 65536))
    throw new TelemetryConfigError(
      `options.nativeHistograms.bucketFactor must be a number above 1, got ${s.bucketFactor}`,
    );
  integer('options.nativeHistograms.maxBuckets', s.maxBuckets, 1, 1_000_000);
  if (!(s.zeroThreshold >= 0 && s.zeroThreshold < 1))
    throw new TelemetryConfigError(
      `options.nativeHistograms.zeroThreshold must be from 0 to below 1, got ${s.zeroThreshold}`,
    );
  return s;
}

export function parseExporters(raw: readonly string[] | string, source: string): ExporterName[] {
  return exporterList(EXPORTER_NAMES, raw, source) ?? ['prometheus'];
}

/** A credential: a non-empty string without control characters (and without spaces unless `spaces`). */
function credential(source: string, raw: unknown, spaces = false): string {
  if (typeof raw !== 'string' || raw.trim() === '' || /[\x00-\x1f\x7f]/.test(raw) || (!spaces && /\s/.test(raw))) {
    throw new TelemetryConfigError(
      `${source} must be a non-empty string without ${spaces ? '' : 'spaces or '}control characters`,
    );
  }
  return raw;
}

/** The credentials of `/metrics`: the option when given, else the environment; undefined = open. */
function scrapeAuth(
  option: ScrapeAuth | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ScrapeAuth | undefined {
  if (option !== undefined) {
    if (option === null || typeof option !== 'object')
      throw new TelemetryConfigError(
        'options.prometheus.auth must be { bearerToken } or { basic: { username, password } }',
      );
    const auth: ScrapeAuth = {};
    if (option.bearerToken !== undefined)
      auth.bearerToken = credential('options.prometheus.auth.bearerToken', option.bearerToken);
    if (option.basic !== undefined) {
      const b = option.basic as Partial<ScrapeAuth['basic']> | null;
      const username = credential('options.prometheus.auth.basic.username', b?.username);
      if (username.includes(':'))
        throw new TelemetryConfigError('options.prometheus.auth.basic.username must not contain ":"');
      auth.basic = { username, password: credential('options.prometheus.auth.basic.password', b?.password, true) };
    }
    if (!auth.bearerToken && !auth.basic)
      throw new TelemetryConfigError('options.prometheus.auth must set bearerToken or basic: { username, password }');
    return auth;
  }
  const token = env.TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN;
  const basic = env.TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH;
  if (token === undefined && basic === undefined) return undefined;
  const auth: ScrapeAuth = {};
  // Set but empty is a mistake (an unset secret in a deployment template), never "open".
  if (token !== undefined) auth.bearerToken = credential('TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN', token);
  if (basic !== undefined) {
    const colon = basic.indexOf(':');
    if (colon <= 0 || colon === basic.length - 1) {
      throw new TelemetryConfigError('TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH must be user:password (both non-empty)');
    }
    auth.basic = {
      username: credential('TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH (user)', basic.slice(0, colon)),
      password: credential('TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH (password)', basic.slice(colon + 1), true),
    };
  }
  return auth;
}

export function resolveConfig(options: TelemetryOptions = {}): ResolvedConfig {
  if (options === null || typeof options !== 'object')
    throw new TelemetryConfigError('startTelemetry(options): options must be an object');
  const env = options.env ?? process.env;

  const exporters =
    options.exporters !== undefined
      ? parseExporters(options.exporters, 'options.exporters')
      : envVar(env, 'OTEL_METRICS_EXPORTER')
        ? parseExporters(env.OTEL_METRICS_EXPORTER!, 'OTEL_METRICS_EXPORTER')
        : ['prometheus' as const];

  const p = options.prometheus ?? {};
  const port = intSetting(['options.prometheus.port', p.port], env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 0, 65535, 9091);
  const host = p.host ?? envVar(env, 'OTEL_EXPORTER_PROMETHEUS_HOST');
  const withScopeLabels =
    p.withScopeLabels ??
    (envVar(env, 'TUIST_TELEMETRY_PROMETHEUS_SCOPE_LABELS')
      ? bool('TUIST_TELEMETRY_PROMETHEUS_SCOPE_LABELS', env.TUIST_TELEMETRY_PROMETHEUS_SCOPE_LABELS!)
      : false);
  const withTargetInfo =
    p.withTargetInfo ??
    (envVar(env, 'TUIST_TELEMETRY_PROMETHEUS_TARGET_INFO')
      ? bool('TUIST_TELEMETRY_PROMETHEUS_TARGET_INFO', env.TUIST_TELEMETRY_PROMETHEUS_TARGET_INFO!)
      : false);
  const withCreated =
    p.withCreated ??
    (envVar(env, 'TUIST_TELEMETRY_OPENMETRICS_CREATED')
      ? bool('TUIST_TELEMETRY_OPENMETRICS_CREATED', env.TUIST_TELEMETRY_OPENMETRICS_CREATED!)
      : false);

  const writeTimeoutMs = intSetting(['options.prometheus.writeTimeoutMs', p.writeTimeoutMs], {}, '', 1, MAX_MS, 30_000);
  const idleTimeoutMs = intSetting(['options.prometheus.idleTimeoutMs', p.idleTimeoutMs], {}, '', 1, MAX_MS, 30_000);
  const maxConcurrentScrapes = intSetting(
    ['options.prometheus.maxConcurrentScrapes', p.maxConcurrentScrapes],
    {},
    '',
    1,
    10_000,
    10,
  );

  const auth = scrapeAuth(p.auth, env);
  // Credentials no client could send (non-ASCII token, longer than Node's header limit): refused here.
  const authProblem = auth && scrapeAuthProblem(auth, p.auth !== undefined);
  if (authProblem) throw new TelemetryConfigError(authProblem);

  const protoFrom =
    options.otlp?.protocol !== undefined
      ? 'options.otlp.protocol'
      : envVar(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL')
        ? 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'
        : envVar(env, 'OTEL_EXPORTER_OTLP_PROTOCOL')
          ? 'OTEL_EXPORTER_OTLP_PROTOCOL'
          : undefined;
  const protoRaw = options.otlp?.protocol ?? (protoFrom ? envVar(env, protoFrom)! : 'http/protobuf');
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protoRaw)) {
    throw new TelemetryConfigError(
      `${protoFrom}: unknown protocol ${JSON.stringify(protoRaw)}; valid values are ${OTLP_PROTOCOLS.join(', ')}`,
    );
  }

  // Resolved here (not left to the exporter) so `options.env` is honoured like process.env.
  const metricsEndpoint = envVar(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const baseEndpoint = envVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const urlFrom =
    options.otlp?.url !== undefined
      ? 'options.otlp.url'
      : metricsEndpoint
        ? 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'
        : baseEndpoint
          ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
          : undefined;
  const otlpUrl =
    options.otlp?.url ??
    metricsEndpoint ??
    (baseEndpoint
      ? protoRaw === 'grpc'
        ? baseEndpoint
        : baseEndpoint.replace(/\/+$/, '') + '/v1/metrics'
      : undefined);

  const exportIntervalMs = intSetting(
    ['options.exportIntervalMs', options.exportIntervalMs],
    env,
    'OTEL_METRIC_EXPORT_INTERVAL',
    1,
    MAX_MS,
    60000,
  );
  const timeoutRaw = intSetting(['', undefined], env, 'OTEL_METRIC_EXPORT_TIMEOUT', 1, MAX_MS, 30000);

  const naming = (options.naming ?? envVar(env, 'TUIST_TELEMETRY_NAMING') ?? 'docs') as NamingProfile;
  if (!NAMING_PROFILES.includes(naming)) {
    throw new TelemetryConfigError(
      `${options.naming !== undefined ? 'options.naming' : 'TUIST_TELEMETRY_NAMING'}: unknown naming profile ${JSON.stringify(naming)}; valid values are ${NAMING_PROFILES.join(', ')}`,
    );
  }

  const hcRaw = options.highCardinalityLabels ?? envVar(env, 'TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS') ?? [];
  const hcSource =
    options.highCardinalityLabels !== undefined
      ? 'options.highCardinalityLabels'
      : 'TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS';
  const hcList =
    typeof hcRaw === 'string'
      ? hcRaw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [...hcRaw];
  const highCardinality = new Set<string>();
  for (const l of hcList) {
    if (l === 'all') HIGH_CARDINALITY_LABELS.forEach((x) => highCardinality.add(x));
    else if (l === 'none') continue;
    else if (HIGH_CARDINALITY_LABELS.includes(l)) highCardinality.add(l);
    else
      throw new TelemetryConfigError(
        `${hcSource}: unknown label ${JSON.stringify(l)}; valid values are ${HIGH_CARDINALITY_LABELS.join(', ')}, all or none`,
      );
  }

  const maxLabelValues = intSetting(
    ['options.maxLabelValues', options.maxLabelValues],
    env,
    'TUIST_TELEMETRY_MAX_LABEL_VALUES',
    1,
    1_000_000,
    1000,
  );
  const maxSeriesPerMetric = intSetting(
    ['options.maxSeriesPerMetric', options.maxSeriesPerMetric],
    env,
    'TUIST_TELEMETRY_MAX_SERIES_PER_METRIC',
    1,
    10_000_000,
    2000,
  );
  const pollIntervalMs = intSetting(
    ['options.pollIntervalMs', options.pollIntervalMs],
    env,
    'TUIST_TELEMETRY_POLL_INTERVAL_MS',
    1,
    MAX_MS,
    600_000,
  );
  const runtimeMetrics =
    options.runtimeMetrics ??
    (envVar(env, 'TUIST_TELEMETRY_RUNTIME_METRICS')
      ? bool('TUIST_TELEMETRY_RUNTIME_METRICS', env.TUIST_TELEMETRY_RUNTIME_METRICS!)
      : true);

  const clusterMode = (options.cluster?.mode ??
    envVar(env, 'TUIST_TELEMETRY_CLUSTER')?.toLowerCase() ??
    'auto') as ClusterMode;
  if (!CLUSTER_MODES.includes(clusterMode)) {
    throw new TelemetryConfigError(
      `${options.cluster?.mode !== undefined ? 'options.cluster.mode' : 'TUIST_TELEMETRY_CLUSTER'}: unknown mode ${JSON.stringify(clusterMode)}; valid values are ${CLUSTER_MODES.join(', ')}`,
    );
  }
  const clusterTimeoutMs = intSetting(
    ['options.cluster.timeoutMs', options.cluster?.timeoutMs],
    env,
    'TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS',
    1,
    600_000,
    1000,
  );

  return {
    exporters,
    prometheus: {
      host,
      port,
      withScopeLabels,
      withTargetInfo,
      withCreated,
      writeTimeoutMs,
      idleTimeoutMs,
      maxConcurrentScrapes,
      auth,
    },
    otlpProtocol: protoRaw as OtlpProtocol,
    otlpUrl,
    otlpSources: { url: urlFrom, protocol: protoFrom },
    exportIntervalMs,
    exportTimeoutMs: Math.min(timeoutRaw, exportIntervalMs),
    serviceName: options.serviceName ?? envVar(env, 'OTEL_SERVICE_NAME') ?? 'tuist-server',
    serviceVersion: options.serviceVersion,
    naming,
    highCardinality,
    maxLabelValues,
    maxSeriesPerMetric,
    pollIntervalMs,
    runtimeMetrics,
    nativeHistograms: nativeSettings(options.nativeHistograms, env),
    setGlobalMeterProvider: options.setGlobalMeterProvider ?? true,
    cluster: { mode: clusterMode, timeoutMs: clusterTimeoutMs },
    ...resolveOtelSettings(options, env),
  };
}

// ---- OpenTelemetry SDK settings: resource detectors, OTLP temporality, traces ----

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

/** As the Node SDK reads `OTEL_NODE_RESOURCE_DETECTORS`: `all` wins, then `none`, else the names listed. */
export function parseResourceDetectors(raw: readonly string[] | string, source: string): ResourceDetectorName[] {
  const list = (typeof raw === 'string' ? raw.split(',') : [...raw])
    .map((s) => String(s).trim().toLowerCase())
    .filter(Boolean);
  for (const d of list) oneOf([...RESOURCE_DETECTOR_NAMES, 'all', 'none'], d, source);
  if (list.includes('all')) return [...RESOURCE_DETECTOR_NAMES];
  if (list.includes('none')) return [];
  return [...new Set(list)] as ResourceDetectorName[];
}

export function resolveOtelSettings(
  options: OtelSdkOptions,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedOtelSettings {
  const detectorsRaw = options.resourceDetectors ?? envVar(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  const resourceDetectors =
    detectorsRaw === undefined
      ? (['env', 'serviceinstance'] as ResourceDetectorName[])
      : parseResourceDetectors(
          detectorsRaw,
          options.resourceDetectors !== undefined ? 'options.resourceDetectors' : 'OTEL_NODE_RESOURCE_DETECTORS',
        );

  const tempRaw =
    options.temporalityPreference ?? envVar(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE') ?? 'cumulative';
  const temporalityPreference = oneOf(
    TEMPORALITY_PREFERENCES,
    tempRaw,
    options.temporalityPreference !== undefined
      ? 'options.temporalityPreference'
      : 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  );

  const aggSource =
    options.histogramAggregation !== undefined
      ? 'options.histogramAggregation'
      : 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION';
  const histogramAggregation = oneOf(
    HISTOGRAM_AGGREGATIONS,
    options.histogramAggregation ?? envVar(env, aggSource) ?? 'explicit_bucket_histogram',
    aggSource,
  );

  const t = options.traces ?? {};
  const exportersRaw = t.exporter ?? envVar(env, 'OTEL_TRACES_EXPORTER');
  const exporters =
    exportersRaw === undefined
      ? []
      : (exporterList(
          TRACES_EXPORTER_NAMES,
          exportersRaw,
          t.exporter !== undefined ? 'options.traces.exporter' : 'OTEL_TRACES_EXPORTER',
        ) ?? []);
  const sampler = oneOf(
    TRACES_SAMPLERS,
    t.sampler ?? envVar(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on',
    t.sampler !== undefined ? 'options.traces.sampler' : 'OTEL_TRACES_SAMPLER',
  );
  const argRaw: unknown = t.samplerArg ?? envVar(env, 'OTEL_TRACES_SAMPLER_ARG');
  let samplerArg = 1;
  if (argRaw !== undefined && sampler.endsWith('traceidratio')) {
    // Decimal notation only (`0.25`, `.5`, `1e-2`); Number() would also take `0x1` and `0b1`.
    samplerArg =
      typeof argRaw === 'number'
        ? argRaw
        : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(String(argRaw))
          ? Number(argRaw)
          : NaN;
    if (!Number.isFinite(samplerArg) || samplerArg < 0 || samplerArg > 1) {
      throw new TelemetryConfigError(
        `${t.samplerArg !== undefined ? 'options.traces.samplerArg' : 'OTEL_TRACES_SAMPLER_ARG'} must be a ratio from 0 to 1, got ${JSON.stringify(argRaw)}`,
      );
    }
  }
  const protocolFrom =
    t.protocol !== undefined
      ? 'options.traces.protocol'
      : envVar(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
        ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
        : envVar(env, 'OTEL_EXPORTER_OTLP_PROTOCOL')
          ? 'OTEL_EXPORTER_OTLP_PROTOCOL'
          : undefined;
  const protocol = oneOf(
    OTLP_PROTOCOLS,
    t.protocol ?? (protocolFrom ? envVar(env, protocolFrom)! : 'http/protobuf'),
    protocolFrom ?? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  );
  const base = envVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesEndpoint = envVar(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const url =
    t.url ??
    tracesEndpoint ??
    (base ? (protocol === 'grpc' ? base : base.replace(/\/+$/, '') + '/v1/traces') : undefined);
  const urlFrom =
    t.url !== undefined
      ? 'options.traces.url'
      : tracesEndpoint
        ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
        : base
          ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
          : undefined;

  return {
    resourceDetectors,
    serviceInstanceId: options.serviceInstanceId ?? undefined,
    temporalityPreference,
    histogramAggregation,
    traces: { exporters, sampler, samplerArg, url, protocol, sources: { url: urlFrom, protocol: protocolFrom } },
  };
}
