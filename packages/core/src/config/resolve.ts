import { HIGH_CARDINALITY_LABELS } from '../catalog/index.js';
import { scrapeAuthProblem, type ScrapeAuth } from '../prometheus/auth.js';
import { NATIVE_DEFAULTS, type NativeHistogramSettings } from '../store/native-histogram.js';
import { EXPORTER_NAMES, type ExporterName } from '../settings/lists.js';
import type { ResolvedConfig, TelemetryOptions } from './options.js';
import { resolveOtelSettings } from './otel.js';
import { otlpUrl } from './otlp-url.js';
import { found, readBoolean, readEnum, readInteger } from '../settings/table.js';
import { bool, exporterList, integer, TelemetryConfigError } from '../settings/values.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Native histogram settings from the option or `TUIST_TELEMETRY_NATIVE_HISTOGRAMS`; undefined: off. */
function nativeSettings(options: TelemetryOptions, env: Env): NativeHistogramSettings | undefined {
  const f = found('nativeHistograms', options, env);
  const on =
    f === undefined ? false : f.source.startsWith('options.') ? f.value !== false : bool(f.source, f.value as string);
  if (!on) return undefined;
  const s = {
    ...NATIVE_DEFAULTS,
    ...(typeof f!.value === 'object' ? (f!.value as Partial<NativeHistogramSettings>) : {}),
  };
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
function scrapeAuth(options: TelemetryOptions, env: Env): ScrapeAuth | undefined {
  const given = options.prometheus?.auth;
  if (given !== undefined) {
    if (given === null || typeof given !== 'object')
      throw new TelemetryConfigError(
        'options.prometheus.auth must be { bearerToken } or { basic: { username, password } }',
      );
    const auth: ScrapeAuth = {};
    if (given.bearerToken !== undefined)
      auth.bearerToken = credential('options.prometheus.auth.bearerToken', given.bearerToken);
    if (given.basic !== undefined) {
      const b = given.basic as Partial<ScrapeAuth['basic']> | null;
      const username = credential('options.prometheus.auth.basic.username', b?.username);
      if (username.includes(':'))
        throw new TelemetryConfigError('options.prometheus.auth.basic.username must not contain ":"');
      auth.basic = { username, password: credential('options.prometheus.auth.basic.password', b?.password, true) };
    }
    if (!auth.bearerToken && !auth.basic)
      throw new TelemetryConfigError('options.prometheus.auth must set bearerToken or basic: { username, password }');
    return auth;
  }
  const token = found('bearerToken', options, env);
  const basic = found('basicAuth', options, env)?.value as string | undefined;
  if (token === undefined && basic === undefined) return undefined;
  const auth: ScrapeAuth = {};
  // Set but empty is a mistake (an unset secret in a deployment template), never "open".
  if (token !== undefined) auth.bearerToken = credential(token.source, token.value);
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

/** The high-cardinality labels turned on: a list (or comma list) of their names, `all` or `none`. */
function highCardinalityLabels(options: TelemetryOptions, env: Env): Set<string> {
  const f = found('highCardinalityLabels', options, env);
  const raw = (f?.value ?? []) as readonly string[] | string;
  const list =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [...raw];
  const on = new Set<string>();
  for (const l of list) {
    if (l === 'all') HIGH_CARDINALITY_LABELS.forEach((x) => on.add(x));
    else if (l === 'none') continue;
    else if (HIGH_CARDINALITY_LABELS.includes(l)) on.add(l);
    else
      throw new TelemetryConfigError(
        `${f?.source}: unknown label ${JSON.stringify(l)}; valid values are ${HIGH_CARDINALITY_LABELS.join(', ')}, all or none`,
      );
  }
  return on;
}

export function resolveConfig(options: TelemetryOptions = {}): ResolvedConfig {
  if (options === null || typeof options !== 'object')
    throw new TelemetryConfigError('startTelemetry(options): options must be an object');
  const env = options.env ?? process.env;

  const exportersFound = found('exporters', options, env);
  const exporters = exportersFound
    ? parseExporters(exportersFound.value as string, exportersFound.source)
    : ['prometheus' as const];

  const port = readInteger('prometheusPort', options, env);
  const host = found('prometheusHost', options, env)?.value as string | undefined;
  const withScopeLabels = readBoolean('scopeLabels', options, env);
  const withTargetInfo = readBoolean('targetInfo', options, env);
  const withCreated = readBoolean('created', options, env);
  const writeTimeoutMs = readInteger('writeTimeoutMs', options, env);
  const idleTimeoutMs = readInteger('idleTimeoutMs', options, env);
  const maxConcurrentScrapes = readInteger('maxConcurrentScrapes', options, env);

  const auth = scrapeAuth(options, env);
  // Credentials no client could send (non-ASCII token, longer than Node's header limit): refused here.
  const authProblem = auth && scrapeAuthProblem(auth, options.prometheus?.auth !== undefined);
  if (authProblem) throw new TelemetryConfigError(authProblem);

  const protocol = found('otlpProtocol', options, env);
  const otlpProtocol = readEnum('otlpProtocol', options, env);
  // Resolved here (not left to the exporter) so `options.env` is honoured like process.env.
  const url = found('otlpUrl', options, env);
  const exportIntervalMs = readInteger('exportIntervalMs', options, env);
  const exportTimeoutMs = readInteger('exportTimeoutMs', options, env);
  const naming = readEnum('naming', options, env);
  const highCardinality = highCardinalityLabels(options, env);
  const maxLabelValues = readInteger('maxLabelValues', options, env);
  const maxSeriesPerMetric = readInteger('maxSeriesPerMetric', options, env);
  const pollIntervalMs = readInteger('pollIntervalMs', options, env);
  const runtimeMetrics = readBoolean('runtimeMetrics', options, env);
  const cluster = {
    mode: readEnum('clusterMode', options, env),
    timeoutMs: readInteger('clusterTimeoutMs', options, env),
  };

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
    otlpProtocol,
    otlpUrl: otlpUrl(url, otlpProtocol, 'metrics'),
    otlpSources: { url: url?.source, protocol: protocol?.source },
    exportIntervalMs,
    exportTimeoutMs: Math.min(exportTimeoutMs, exportIntervalMs),
    serviceName: (found('serviceName', options, env)?.value as string | undefined) ?? 'tuist-server',
    serviceVersion: options.serviceVersion,
    naming,
    highCardinality,
    maxLabelValues,
    maxSeriesPerMetric,
    pollIntervalMs,
    runtimeMetrics,
    nativeHistograms: nativeSettings(options, env),
    setGlobalMeterProvider: readBoolean('setGlobalMeterProvider', options, env),
    cluster,
    ...resolveOtelSettings(options, env),
  };
}
