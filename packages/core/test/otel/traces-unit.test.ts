import { expect } from 'chai';
import { context, diag, DiagLogLevel, propagation, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode } from '@opentelemetry/core';
import { startTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';
import { resolveConfig } from '../../src/config/index.js';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { OtlpFailures } from '../../src/otel/otlp-failures.js';
import { otlpTraceExporter, startTracing } from '../../src/otel/traces.js';

/*
 * traces.ts in-process (issue 26): the sampler each OTEL_TRACES_SAMPLER value makes, for a root span and for the
 * child of a sampled remote parent; an app's own TracerProvider kept; the OTLP trace exporter's options and failure
 * reporting. Spans sent to a real receiver are in traces.test.ts.
 */

const remoteParent = (flags: TraceFlags): Context =>
  trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: flags,
    isRemote: true,
  });
const sampledParent = () => remoteParent(TraceFlags.SAMPLED);

function quietConsole<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.dir;
  console.dir = () => {};
  return fn().finally(() => {
    console.dir = original;
  });
}

describe('core: traces.ts in-process (issue 26)', () => {
  it('each sampler, for a root span and for the child of a sampled and of an unsampled remote parent', async () => {
    const cases: [string, string | undefined, boolean, boolean, boolean][] = [
      ['always_on', undefined, true, true, true],
      ['always_off', undefined, false, false, false],
      ['traceidratio', '0', false, false, false],
      ['parentbased_always_on', undefined, true, true, false],
      ['parentbased_always_off', undefined, false, true, false],
      ['parentbased_traceidratio', '0', false, true, false],
      ['parentbased_traceidratio', '1', true, true, false],
    ];
    for (const [sampler, arg, root, child, unsampledChild] of cases) {
      const t = startTelemetry({
        runtimeMetrics: false,
        exporters: 'none',
        env: {
          OTEL_TRACES_EXPORTER: 'console',
          OTEL_TRACES_SAMPLER: sampler,
          ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}),
        },
      });
      await quietConsole(async () => {
        try {
          const tracer = trace.getTracer('test');
          const r = tracer.startSpan('root');
          const c = tracer.startSpan('child', {}, sampledParent());
          const u = tracer.startSpan('unsampled child', {}, remoteParent(TraceFlags.NONE));
          expect([r.isRecording(), c.isRecording(), u.isRecording()], `${sampler} ${arg ?? ''}`).to.deep.equal([
            root,
            child,
            unsampledChild,
          ]);
          for (const span of [r, c, u]) span.end();
        } finally {
          await t.shutdown();
        }
      });
    }
  });

  it('W3C trace context and baggage are propagated', async () => {
    const t = startTelemetry({ runtimeMetrics: false, exporters: 'none', env: { OTEL_TRACES_EXPORTER: 'console' } });
    try {
      const carrier: Record<string, string> = {};
      const ctx = propagation.setBaggage(sampledParent(), propagation.createBaggage({ k: { value: 'v' } }));
      propagation.inject(ctx, carrier);
      expect(carrier.traceparent).to.equal('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(carrier.baggage).to.equal('k=v');
    } finally {
      await quietConsole(() => t.shutdown());
    }
  });

  it("an app's own TracerProvider registered first is kept, with a warning; none exporters start nothing", async () => {
    const own = new NodeTracerProvider();
    own.register();
    const warned: string[] = [];
    const settings = resolveConfig({ env: { OTEL_TRACES_EXPORTER: 'console' } });
    const resource = resourceFromAttributes({});
    // OpenTelemetry's API refuses the second registration, through diag: kept here, not printed.
    const refused: string[] = [];
    const keep = (...args: unknown[]) => void refused.push(args.map(String).join(' '));
    diag.setLogger({ error: keep, warn: keep, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    try {
      const tracing = startTracing(settings, resource, (m) => warned.push(m))!;
      expect(refused.join('\n')).to.contain('duplicate registration of API: trace');
      expect(tracing.global).to.equal(false);
      expect(warned).to.deep.equal([
        '@tuist-telemetry/core: a TracerProvider was registered already; OTEL_TRACES_EXPORTER is ignored and the app keeps its own',
      ]);
      expect((trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate()).to.equal(own);
      tracing.close();
      await tracing.provider.shutdown();
    } finally {
      diag.disable();
      trace.disable();
      propagation.disable();
      context.disable();
      await own.shutdown();
    }
    expect(startTracing(resolveConfig({ env: {} }), resource, (m) => warned.push(m))).to.equal(undefined);
    expect(warned).to.have.length(1);
  });

  it('the OTLP trace exporter gets the URL when one is set, and reports its failures through OtlpFailures', async () => {
    const made: unknown[] = [];
    class OTLPTraceExporter {
      constructor(config: unknown) {
        made.push(config);
      }
      export(_spans: never, done: (r: { code: number; error?: Error }) => void) {
        done({ code: ExportResultCode.FAILED, error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
      }
      shutdown() {
        return Promise.resolve();
      }
    }
    const load = () => ({ OTLPTraceExporter });
    const plain = otlpTraceExporter('http/json', 'http://collector:4318/v1/traces', load);
    expect(plain).to.be.instanceOf(OTLPTraceExporter);
    otlpTraceExporter('http/json', undefined, load);
    expect(made).to.deep.equal([{ url: 'http://collector:4318/v1/traces' }, {}]);
    const lines: string[] = [];
    const keep = (m: string) => void lines.push(m);
    const failures = new OtlpFailures(
      {
        signal: 'traces',
        url: 'http://collector:4318/v1/traces',
        protocol: 'http/json',
        urlFrom: undefined,
        protocolFrom: undefined,
      },
      1000,
      new RateLimitedLogger({ error: keep, warn: keep, info() {}, debug() {}, verbose() {} }),
    );
    const wrapped = otlpTraceExporter('http/json', undefined, load, failures);
    expect(wrapped).to.not.be.instanceOf(OTLPTraceExporter);
    const result = await new Promise((r) => wrapped.export([], r));
    expect(result).to.deep.equal({ code: ExportResultCode.SUCCESS });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('OTLP traces export to http://collector:4318/v1/traces failed: connection refused');
  });

  it('a missing OTLP trace exporter package names the traces variables and the package of each protocol', () => {
    const loaded: string[] = [];
    const missing = (pkg: string) => {
      loaded.push(pkg);
      throw Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
    };
    const packages = {
      grpc: '@opentelemetry/exporter-trace-otlp-grpc',
      'http/json': '@opentelemetry/exporter-trace-otlp-http',
      'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
    } as const;
    for (const [protocol, pkg] of Object.entries(packages) as [keyof typeof packages, string][]) {
      expect(() => otlpTraceExporter(protocol, undefined, missing)).to.throw(
        TelemetryConfigError,
        new RegExp(
          `^OTEL_TRACES_EXPORTER=otlp with protocol ${protocol} needs ${pkg}: npm install ${pkg}@.*` +
            '\\(or choose another protocol with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: grpc, http/json, http/protobuf\\)$',
        ),
      );
    }
    expect(loaded).to.deep.equal(Object.values(packages));
  });

  it("the sampler named in options.env wins over the process environment's (the default one included)", async () => {
    const before = process.env.OTEL_TRACES_SAMPLER;
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    try {
      const t = startTelemetry({
        runtimeMetrics: false,
        exporters: 'none',
        env: { OTEL_TRACES_EXPORTER: 'console', OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
      });
      await quietConsole(async () => {
        try {
          const span = trace.getTracer('test').startSpan('root');
          expect(span.isRecording()).to.equal(true);
          span.end();
        } finally {
          await t.shutdown();
        }
      });
    } finally {
      if (before === undefined) delete process.env.OTEL_TRACES_SAMPLER;
      else process.env.OTEL_TRACES_SAMPLER = before;
    }
  });
});
