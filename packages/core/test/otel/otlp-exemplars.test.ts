import { expect } from 'chai';
import { context, diag, DiagLogLevel, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Telemetry } from '@tuist-telemetry/core';
import { pointExemplars, withExemplars } from '../../src/otel/otlp-exemplars.js';
import {
  grpcReceiver,
  otlpReceiver,
  protobufHistogramPoints,
  type DecodedHistogramPoint,
  withTracing,
  keepingLogger,
  startPushing,
} from '../helpers/index.js';

const METRIC = 'tuist_runs_duration_milliseconds';

interface JsonPoint {
  attributes: { key: string; value: { stringValue?: string } }[];
  exemplars?: {
    timeUnixNano: string;
    asDouble: number;
    spanId: string;
    traceId: string;
    filteredAttributes?: unknown[];
  }[];
}

/** The points of histogram `name` in an OTLP/JSON export, in the decoded shape of protobufHistogramPoints. */
function jsonHistogramPoints(body: Buffer, name: string): DecodedHistogramPoint[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceMetrics: {
      scopeMetrics: {
        metrics: { name: string; histogram?: { dataPoints: (JsonPoint & { count: string | number })[] } }[];
      }[];
    }[];
  };
  const metric = doc.resourceMetrics
    .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
    .find((m) => m.name === name);
  return (metric?.histogram?.dataPoints ?? []).map((p) => ({
    attributes: Object.fromEntries(p.attributes.map((a) => [a.key, a.value.stringValue ?? ''])),
    count: Number(p.count),
    exemplars: (p.exemplars ?? []).map((e) => ({
      timeUnixNano: BigInt(e.timeUnixNano),
      value: e.asDouble,
      spanId: e.spanId,
      traceId: e.traceId,
    })),
  }));
}

const PROTOCOLS = {
  'http/json': { contentType: 'application/json', decode: jsonHistogramPoints },
  'http/protobuf': { contentType: 'application/x-protobuf', decode: protobufHistogramPoints },
} as const;

describe('core: exemplars on OTLP histogram points over grpc (decoded export)', () => {
  it('a value recorded inside a sampled span is carried as its point exemplar; outside a span, none', async () => {
    const rx = await grpcReceiver();
    const t = startPushing(rx.url, 'grpc');
    try {
      const ids = await withTracing(new NodeTracerProvider(), () =>
        trace.getTracer('test').startActiveSpan('run', (span) => {
          t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
          span.end();
          return span.spanContext();
        }),
      );
      t.metrics.recordRun({ name: 'test', isCi: false, status: 0, durationMs: 170 });
      const next = rx.next();
      await t.forceFlush();
      const points = protobufHistogramPoints(await next, METRIC);
      const inSpan = points.find((p) => p.attributes.name === 'build')!;
      expect(inSpan.exemplars.map((e) => [e.traceId, e.spanId, e.value])).to.deep.equal([
        [ids.traceId, ids.spanId, 150],
      ]);
      expect(points.find((p) => p.attributes.name === 'test')!.exemplars).to.deep.equal([]);
    } finally {
      await t.shutdown();
      await rx.close();
    }
  });
});

for (const [protocol, { contentType, decode }] of Object.entries(PROTOCOLS)) {
  describe(`core: exemplars on OTLP histogram points over ${protocol} (decoded exports)`, () => {
    let rx: Awaited<ReturnType<typeof otlpReceiver>>;
    let t: Telemetry;
    const start = (preference?: 'delta') => {
      t = startPushing(rx.url, protocol, {
        env: preference ? { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: preference } : {},
      });
    };
    const push = async (): Promise<DecodedHistogramPoint[]> => {
      const next = rx.next();
      await t.forceFlush();
      const got = await next;
      expect(got.contentType).to.contain(contentType);
      return decode(got.body, METRIC);
    };
    const point = (points: DecodedHistogramPoint[], name: string) => points.find((p) => p.attributes.name === name);
    const run = (name: string, durationMs: number) => t.metrics.recordRun({ name, isCi: false, status: 0, durationMs });

    beforeEach(async () => {
      rx = await otlpReceiver();
    });
    afterEach(async () => {
      await t.shutdown();
      await rx.close();
    });

    it('a value recorded inside a sampled span is carried as its point exemplar (trace id, span id, value, time); outside a span, none', async () => {
      start();
      const before = BigInt(Date.now() - 1000) * 1_000_000n;
      const ids: SpanContext = await withTracing(new NodeTracerProvider(), () =>
        trace.getTracer('test').startActiveSpan('run', (span) => {
          run('build', 150);
          span.end();
          return span.spanContext();
        }),
      );
      run('test', 170); // another series, recorded with no span
      const points = await push();
      const inSpan = point(points, 'build')!;
      expect(inSpan.count).to.equal(1);
      expect(inSpan.exemplars).to.have.length(1);
      const e = inSpan.exemplars[0]!;
      expect(e.traceId).to.equal(ids.traceId);
      expect(e.spanId).to.equal(ids.spanId);
      expect(e.value).to.equal(150);
      expect(
        e.timeUnixNano >= before && e.timeUnixNano <= BigInt(Date.now() + 1000) * 1_000_000n,
        String(e.timeUnixNano),
      ).to.equal(true);
      expect(point(points, 'test')!.count).to.equal(1);
      expect(point(points, 'test')!.exemplars).to.deep.equal([]);
    });

    it('ids are sent as lower-case hex (OTLP/JSON: hex strings); a context with invalid ids sends none', async () => {
      start();
      const [traceId, spanId] = ['0AF7651916CD43DD8448EB211C80319C', 'B7AD6B7169203331'];
      const inContext = (sc: object, fn: () => void) =>
        context.with(trace.setSpan(context.active(), trace.wrapSpanContext(sc as SpanContext)), fn);
      await withTracing(new NodeTracerProvider(), () => {
        inContext({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }, () => run('upper', 150));
        inContext({ traceId: 123, spanId: { id: 1 }, traceFlags: TraceFlags.SAMPLED }, () => run('bad', 150));
        inContext({ traceId: '0'.repeat(32), spanId, traceFlags: TraceFlags.SAMPLED }, () => run('zero', 150));
      });
      const points = await push();
      expect(point(points, 'upper')!.exemplars.map((e) => [e.traceId, e.spanId])).to.deep.equal([
        [traceId.toLowerCase(), spanId.toLowerCase()],
      ]);
      expect(point(points, 'bad')!.exemplars).to.deep.equal([]);
      expect(point(points, 'zero')!.exemplars).to.deep.equal([]);
    });

    it('an unsampled span gives no exemplar', async () => {
      start();
      await withTracing(new NodeTracerProvider({ sampler: new AlwaysOffSampler() }), () =>
        trace.getTracer('test').startActiveSpan('run', (span) => {
          run('build', 150);
          span.end();
        }),
      );
      const points = await push();
      expect(point(points, 'build')!.count).to.equal(1);
      expect(point(points, 'build')!.exemplars).to.deep.equal([]);
    });

    it('one exemplar per bucket, the latest; cumulative exports keep carrying them', async () => {
      start();
      const spans = await withTracing(new NodeTracerProvider(), () =>
        [150, 160, 900].map((ms) =>
          trace.getTracer('test').startActiveSpan('run', (span) => {
            run('build', ms);
            span.end();
            return span.spanContext().spanId;
          }),
        ),
      );
      const first = point(await push(), 'build')!;
      // 150 and 160 share the bucket le=200; 900 is in le=1600.
      expect(first.exemplars.map((e) => [e.value, e.spanId])).to.deep.equal([
        [160, spans[1]],
        [900, spans[2]],
      ]);
      expect(point(await push(), 'build')!.exemplars.map((e) => e.value)).to.deep.equal([160, 900]);
    });

    it('delta: an export carries only the exemplars kept since the previous one', async () => {
      start('delta');
      const provider = new NodeTracerProvider();
      await withTracing(provider, async () => {
        const inSpan = (ms: number) =>
          trace.getTracer('test').startActiveSpan('run', (span) => {
            run('build', ms);
            span.end();
          });
        inSpan(150);
        expect(point(await push(), 'build')!.exemplars.map((e) => e.value)).to.deep.equal([150]);
        run('build', 900); // outside a span: a new point, but the le=200 exemplar was already sent
        expect(point(await push(), 'build')!.exemplars).to.deep.equal([]);
        inSpan(3000);
        expect(point(await push(), 'build')!.exemplars.map((e) => e.value)).to.deep.equal([3000]);
      });
    });
  });
}

describe('core: exemplars never cost an OTLP export', () => {
  it('exemplars the store did not validate are checked again: only valid ids are sent, lower-cased, as hex strings in JSON', () => {
    const point = {};
    pointExemplars.set(point, [
      { value: 1, timestamp: 1_700_000_000_123, traceId: 42 as unknown as string, spanId: 'b7ad6b7169203331' },
      { value: 2, timestamp: 1_700_000_000_123, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'abc' },
      {
        value: 3,
        timestamp: 1_700_000_000_123,
        traceId: '0AF7651916CD43DD8448EB211C80319C',
        spanId: 'B7AD6B7169203331',
      },
    ]);
    const request = {
      resource: {},
      scopeMetrics: [{ scope: { name: 's' }, metrics: [{ dataPoints: [point] }] }],
    } as unknown as ResourceMetrics;
    const stockJson = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', histogram: { dataPoints: [{ count: 3 }] } }] }] }],
    });
    const out = withExemplars(
      { serializeRequest: () => new TextEncoder().encode(stockJson), deserializeResponse: () => ({}) },
      'json',
    ).serializeRequest(request)!;
    const doc = JSON.parse(new TextDecoder().decode(out)) as {
      resourceMetrics: { scopeMetrics: { metrics: { histogram: { dataPoints: JsonPoint[] } }[] }[] }[];
    };
    expect(doc.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram.dataPoints[0]!.exemplars).to.deep.equal([
      {
        timeUnixNano: '1700000000123000000',
        asDouble: 3,
        spanId: 'b7ad6b7169203331',
        traceId: '0af7651916cd43dd8448eb211c80319c',
      },
    ]);
  });

  it('bytes the exemplar writer cannot read are sent as the stock serializer wrote them, with one diag error', () => {
    const point = {};
    pointExemplars.set(point, [
      { value: 1, timestamp: Date.now(), traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
    ]);
    const request = {
      resource: {},
      scopeMetrics: [{ scope: { name: 's' }, metrics: [{ dataPoints: [point] }] }],
    } as unknown as ResourceMetrics;
    const odd = Uint8Array.of(0x0b); // field 1, wire type 3 (a group): not something OTLP metrics use
    const { logger, errors } = keepingLogger();
    diag.setLogger(logger, DiagLogLevel.ERROR);
    try {
      const out = withExemplars(
        { serializeRequest: () => odd, deserializeResponse: () => ({}) },
        'protobuf',
      ).serializeRequest(request);
      expect(out).to.equal(odd);
      expect(errors.join('\n')).to.contain('could not add exemplars to an OTLP export');
    } finally {
      diag.disable();
    }
  });
});
