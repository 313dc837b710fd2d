// The OpenTelemetry SDK settings: resource detectors, OTLP temporality and histogram aggregation, traces.
import { RESOURCE_DETECTOR_NAMES, TRACES_EXPORTER_NAMES, type ResourceDetectorName } from '../settings/lists.js';
import type { OtelSdkOptions, ResolvedOtelSettings } from './options.js';
import { otlpUrl } from './otlp-url.js';
import { found, readEnum } from '../settings/table.js';
import { exporterList, oneOf, TelemetryConfigError } from '../settings/values.js';

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
  const detectors = found('resourceDetectors', options, env);
  const resourceDetectors = detectors
    ? parseResourceDetectors(detectors.value as string, detectors.source)
    : (['env', 'serviceinstance'] as ResourceDetectorName[]);
  const temporalityPreference = readEnum('temporalityPreference', options, env);
  const histogramAggregation = readEnum('histogramAggregation', options, env);

  const tracesExporter = found('tracesExporter', options, env);
  const exporters = tracesExporter
    ? (exporterList(TRACES_EXPORTER_NAMES, tracesExporter.value as string, tracesExporter.source) ?? [])
    : [];
  const sampler = readEnum('tracesSampler', options, env);
  const arg = found('tracesSamplerArg', options, env);
  let samplerArg = 1;
  if (arg !== undefined && sampler.endsWith('traceidratio')) {
    // Decimal notation only (`0.25`, `.5`, `1e-2`); Number() would also take `0x1` and `0b1`.
    samplerArg =
      typeof arg.value === 'number'
        ? arg.value
        : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(String(arg.value))
          ? Number(arg.value)
          : NaN;
    if (!Number.isFinite(samplerArg) || samplerArg < 0 || samplerArg > 1) {
      throw new TelemetryConfigError(`${arg.source} must be a ratio from 0 to 1, got ${JSON.stringify(arg.value)}`);
    }
  }
  const protocolFound = found('tracesProtocol', options, env);
  const protocol = readEnum('tracesProtocol', options, env);
  const url = found('tracesUrl', options, env);

  return {
    resourceDetectors,
    serviceInstanceId: options.serviceInstanceId ?? undefined,
    temporalityPreference,
    histogramAggregation,
    traces: {
      exporters,
      sampler,
      samplerArg,
      url: otlpUrl(url, protocol, 'traces'),
      protocol,
      sources: { url: url?.source, protocol: protocolFound?.source },
    },
  };
}
