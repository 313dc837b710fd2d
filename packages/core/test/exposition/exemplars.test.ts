import { expect } from 'chai';
import { trace } from '@opentelemetry/api';
import { AlwaysOffSampler, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Telemetry } from '@tuist-telemetry/core';
import { startReady, withTracing } from '../helpers/index.js';

function bucketLines(body: string, metric: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(`${metric}_bucket{`));
}

describe('core: exemplars on catalog histograms (OpenMetrics)', () => {
  let t: Telemetry;
  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(() => t.shutdown());

  it('a value recorded inside a sampled span becomes its bucket exemplar (trace id, span id, value, timestamp)', async () => {
    const ids = await withTracing(new NodeTracerProvider(), async () =>
      trace.getTracer('test').startActiveSpan('run', (span) => {
        t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
        span.end();
        return span.spanContext();
      }),
    );
    t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 170 }); // no span: no exemplar
    const om = await t.renderPrometheus({ openMetrics: true });
    const withExemplar = bucketLines(om, 'tuist_runs_duration_milliseconds').filter((l) => l.includes(' # {'));
    expect(withExemplar).to.have.length(1);
    const m = /le="200"\} 2 # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} 150 (\d+\.\d{3})$/.exec(
      withExemplar[0]!,
    );
    expect(m, withExemplar[0]).to.not.equal(null);
    expect(m![1]).to.equal(ids.traceId);
    expect(m![2]).to.equal(ids.spanId);
    expect(Math.abs(Number(m![3]) * 1000 - Date.now())).to.be.lessThan(60_000);
    // Text 0.0.4 has no exemplars.
    expect(await t.renderPrometheus()).to.not.contain(' # {');
  });

  it('no exemplar without a sampled span: unsampled spans and no tracing at all', async () => {
    await withTracing(new NodeTracerProvider({ sampler: new AlwaysOffSampler() }), async () =>
      trace.getTracer('test').startActiveSpan('run', (span) => {
        t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
        span.end();
      }),
    );
    t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
    expect(await t.renderPrometheus({ openMetrics: true })).to.not.contain(' # {');
  });

  it('the latest exemplar of a bucket wins', async () => {
    const last = await withTracing(new NodeTracerProvider(), async () => {
      const tracer = trace.getTracer('test');
      let sc = tracer.startActiveSpan(
        'a',
        (s) => (t.metrics.recordRun({ name: 'x', isCi: true, status: 0, durationMs: 120 }), s.end(), s.spanContext()),
      );
      sc = tracer.startActiveSpan(
        'b',
        (s) => (t.metrics.recordRun({ name: 'x', isCi: true, status: 0, durationMs: 130 }), s.end(), s.spanContext()),
      );
      return sc;
    });
    const line = bucketLines(await t.renderPrometheus({ openMetrics: true }), 'tuist_runs_duration_milliseconds').find(
      (l) => l.includes(' # {'),
    )!;
    expect(line).to.contain(`span_id="${last.spanId}"`);
    expect(line).to.match(/\} 130 \d+\.\d{3}$/);
  });
});
