import { expect } from 'chai';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';
import { otlpReceiver } from '../helpers/index.js';

interface JsonSpans {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; traceId: string; spanId: string }[] }[];
  }[];
}
const spansOf = (body: Buffer) =>
  (JSON.parse(body.toString('utf8')) as JsonSpans).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));

describe('core: traces from the environment (OTEL_TRACES_EXPORTER)', () => {
  it('otlp: a tracer provider with W3C trace-context propagation; spans reach the receiver with the resource, flushed on shutdown', async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      exporters: 'none',
      serviceInstanceId: 'traced-1',
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      },
    });
    let traceId = '';
    const carrier: Record<string, string> = {};
    try {
      trace.getTracer('test').startActiveSpan('upload', (span) => {
        traceId = span.spanContext().traceId;
        propagation.inject(context.active(), carrier);
        span.end();
      });
    } finally {
      await t.shutdown();
      await rx.close();
    }
    expect(carrier.traceparent).to.match(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const got = rx.received.filter((r) => r.path === '/v1/traces');
    expect(got.length).to.be.greaterThan(0);
    const spans = got.flatMap((r) => spansOf(r.body));
    expect(spans.map((s) => s.name)).to.include('upload');
    expect(spans.find((s) => s.name === 'upload')!.traceId.toLowerCase()).to.equal(traceId);
    const attrs = (JSON.parse(got[0]!.body.toString()) as JsonSpans).resourceSpans[0]!.resource.attributes;
    expect(attrs.find((a) => a.key === 'service.instance.id')?.value.stringValue).to.equal('traced-1');
    expect(trace.getTracer('after').startSpan('x').isRecording(), 'shutdown gives the global back').to.equal(false);
  });

  it('otlp,console starts both exporters, as OpenTelemetry does: the span reaches the receiver and the console', async () => {
    const rx = await otlpReceiver();
    const printed: unknown[] = [];
    const original = console.dir;
    console.dir = (obj: unknown) => void printed.push(obj);
    try {
      const t = startTelemetry({
        runtimeMetrics: false,
        exporters: 'none',
        env: {
          OTEL_TRACES_EXPORTER: ' otlp , console ',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        },
      });
      expect(t.config.traces.exporters).to.deep.equal(['otlp', 'console']);
      trace.getTracer('test').startSpan('both').end();
      await t.shutdown();
    } finally {
      console.dir = original;
      await rx.close();
    }
    const viaOtlp = rx.received.filter((r) => r.path === '/v1/traces').flatMap((r) => spansOf(r.body));
    expect(viaOtlp.map((s) => s.name)).to.deep.equal(['both']);
    expect(printed.map((p) => (p as { name?: string }).name)).to.deep.equal(['both']);
  });

  it('none anywhere in the list means no traces (OpenTelemetry reads it so); a name twice counts once', async () => {
    for (const list of ['otlp,none', 'none,console', 'console,none,otlp']) {
      const t = startTelemetry({ runtimeMetrics: false, exporters: 'none', env: { OTEL_TRACES_EXPORTER: list } });
      try {
        expect(t.config.traces.exporters, list).to.deep.equal([]);
        expect(trace.getTracer('test').startSpan('s').isRecording(), list).to.equal(false);
      } finally {
        await t.shutdown();
      }
    }
    const t = startTelemetry({
      runtimeMetrics: false,
      exporters: 'none',
      traces: { exporter: ['console', 'console'] },
    });
    expect(t.config.traces.exporters).to.deep.equal(['console']);
    await t.shutdown();
    expect(() => startTelemetry({ env: { OTEL_TRACES_EXPORTER: 'otlp,jaeger' } })).to.throw(
      TelemetryConfigError,
      /OTEL_TRACES_EXPORTER: unknown exporter "jaeger"/,
    );
  });

  it('OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG choose the sampler', async () => {
    for (const [sampler, arg, recording] of [
      ['always_off', undefined, false],
      ['traceidratio', '0', false],
      ['traceidratio', '1', true],
      ['parentbased_always_on', undefined, true],
    ] as const) {
      const t = startTelemetry({
        runtimeMetrics: false,
        exporters: 'none',
        env: {
          OTEL_TRACES_EXPORTER: 'console',
          OTEL_TRACES_SAMPLER: sampler,
          ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}),
        },
      });
      const original = console.dir;
      console.dir = () => {};
      try {
        const span = trace.getTracer('test').startSpan('s');
        expect(span.isRecording(), `${sampler} ${arg ?? ''}`).to.equal(recording);
        span.end();
        await t.shutdown();
      } finally {
        console.dir = original;
      }
    }
  });

  it('none (the default) starts no tracer provider', async () => {
    const t = startTelemetry({ runtimeMetrics: false, exporters: 'none', env: {} });
    try {
      expect(trace.getTracer('test').startSpan('s').isRecording()).to.equal(false);
    } finally {
      await t.shutdown();
    }
  });

  it('an unknown exporter, sampler or ratio fails start-up listing the valid values', () => {
    expect(() => startTelemetry({ env: { OTEL_TRACES_EXPORTER: 'jaeger' } })).to.throw(
      TelemetryConfigError,
      /OTEL_TRACES_EXPORTER.*"jaeger".*otlp, console, none/,
    );
    expect(() =>
      startTelemetry({ env: { OTEL_TRACES_EXPORTER: 'console', OTEL_TRACES_SAMPLER: 'sometimes' } }),
    ).to.throw(
      TelemetryConfigError,
      /^OTEL_TRACES_SAMPLER: unknown value "sometimes"; valid values are always_on, always_off, traceidratio, /,
    );
    expect(() =>
      startTelemetry({
        env: { OTEL_TRACES_EXPORTER: 'console', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
      }),
    ).to.throw(TelemetryConfigError, /OTEL_TRACES_SAMPLER_ARG/);
  });
});
