import { trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { createRequire } from 'node:module';
import type { OtlpProtocol, ResolvedOtelSettings } from '../config/index.js';
import type { RateLimitedLogger } from '../diag/index.js';
import { loadOtlpPackage } from './exporters.js';
import { defaultOtlpUrl, observeAttempts, OtlpFailures } from './otlp-failures.js';

const require = createRequire(import.meta.url);

/** The OTLP trace exporter each protocol needs: optional peer dependencies of core, like the metrics ones. */
export const OTLP_TRACE_EXPORTER_PACKAGES: Readonly<Record<OtlpProtocol, string>> = {
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
};

type Load = (pkg: string) => unknown;

/** How long a span export may take: the batch span processor's default export timeout, less a margin. */
const SPAN_EXPORT_BUDGET_MS = 29_950;

/**
 * Loads the OTLP trace exporter of `protocol` synchronously; a missing package is a TelemetryConfigError naming it.
 * With `failures`, its failures are reported as one line and its last export at shutdown is bounded (see
 * otlp-failures.ts; the attempts are seen through the exporter's delegate, when laid out as in 0.223).
 */
export function otlpTraceExporter(
  protocol: OtlpProtocol,
  url: string | undefined,
  load: Load = require,
  failures?: OtlpFailures,
): SpanExporter {
  const mod = loadOtlpPackage<{ OTLPTraceExporter: new (c?: { url?: string }) => SpanExporter }>(
    protocol,
    OTLP_TRACE_EXPORTER_PACKAGES,
    'OTEL_TRACES_EXPORTER',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    load,
  );
  const exporter = new mod.OTLPTraceExporter(url ? { url } : {});
  if (!failures) return exporter;
  observeAttempts((exporter as unknown as { _delegate?: unknown })._delegate, failures);
  return failures.exporter(exporter);
}

function sampler(t: ResolvedOtelSettings['traces']): Sampler {
  switch (t.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(t.samplerArg);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(t.samplerArg) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

export interface Tracing {
  provider: NodeTracerProvider;
  /** Whether the provider became the global one (it does not when the app registered its own first). */
  global: boolean;
  /** Shutting down: the OTLP exporter's last export is bounded and not retried. */
  close(): void;
}

/**
 * Traces from the environment (`OTEL_TRACES_EXPORTER`: otlp, console or both; `none` by default): a NodeTracerProvider
 * of @opentelemetry/sdk-trace-node with a batch span processor per exporter, the sampler `OTEL_TRACES_SAMPLER` names, and W3C
 * trace-context (plus baggage) propagation, registered globally so the stock instrumentations (http, undici, pg)
 * produce spans and propagate context. Undefined with `none`. An app that registered a TracerProvider of its own
 * keeps it (a warning says so).
 */
export function startTracing(
  settings: ResolvedOtelSettings,
  resource: Resource,
  warn: (message: string) => void,
  warnings?: RateLimitedLogger,
): Tracing | undefined {
  const t = settings.traces;
  if (t.exporters.length === 0) return undefined;
  const target = {
    signal: 'traces' as const,
    url: t.url ?? defaultOtlpUrl(t.protocol, 'traces'),
    protocol: t.protocol,
    urlFrom: t.sources.url,
    protocolFrom: t.sources.protocol,
  };
  const failures = warnings ? new OtlpFailures(target, SPAN_EXPORT_BUDGET_MS, warnings) : undefined;
  // One batch processor per exporter named (`otlp,console`), as OpenTelemetry's Node SDK does.
  const spanProcessors = t.exporters.map(
    (name) =>
      new BatchSpanProcessor(
        name === 'console' ? new ConsoleSpanExporter() : otlpTraceExporter(t.protocol, t.url, require, failures),
      ),
  );
  const provider = new NodeTracerProvider({ resource, sampler: sampler(t), spanProcessors });
  provider.register({
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  });
  // The global TracerProvider is a proxy over the registered one; registering refuses (logging) when one is set.
  const global = (trace.getTracerProvider() as { getDelegate?: () => unknown }).getDelegate?.() === provider;
  if (!global)
    warn(
      '@tuist-telemetry/core: a TracerProvider was registered already; OTEL_TRACES_EXPORTER is ignored and the app keeps its own',
    );
  return { provider, global, close: () => failures?.close() };
}
