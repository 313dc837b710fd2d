/*
 * Exemplars stored by a real Prometheus (--enable-feature=exemplar-storage): the end-to-end side of exemplars.test.ts
 * and exemplar-validity.test.ts, in a file of its own so that the mutation shards (scripts/mutation-shards.mjs),
 * which try every surviving mutant against every test that reaches it, do not start a Prometheus for each one.
 */
import { expect } from 'chai';
import { context, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startPrometheus } from '@tuist-telemetry/testing';
import { requirePrometheus, startReady, withTracing } from '../helpers/index.js';

const METRIC = 'tuist_runs_duration_milliseconds';
const SAMPLED = TraceFlags.SAMPLED;
const SPAN = 'b7ad6b7169203331';

/** Runs `fn` with a non-recording span of `sc` active (what `trace.wrapSpanContext` gives any caller). */
function inContext<T>(sc: unknown, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), trace.wrapSpanContext(sc as SpanContext)), fn);
}

describe('core: a real Prometheus stores the exemplars (--enable-feature=exemplar-storage)', function () {
  this.timeout(90_000);

  it('query_exemplars returns the trace id recorded inside the span', async function () {
    requirePrometheus(this);
    const t = await startReady();
    const prom = await withTracing(new NodeTracerProvider(), async () => {
      const sc = trace.getTracer('test').startActiveSpan('run', (span) => {
        t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
        span.end();
        return span.spanContext();
      });
      const p = await startPrometheus({
        targets: [`127.0.0.1:${t.port}`],
        flags: ['--enable-feature=exemplar-storage'],
      });
      return { p, sc };
    });
    try {
      let found: string[] = [];
      for (let i = 0; i < 40 && found.length === 0; i++) {
        const r = await prom.p.exemplars('tuist_runs_duration_milliseconds_bucket');
        found = r.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id!));
        if (found.length === 0) await new Promise((res) => setTimeout(res, 250));
      }
      expect(found).to.include(prom.sc.traceId);
    } finally {
      await prom.p.stop();
      await t.shutdown();
    }
  });
});

describe('core: a real Prometheus scrapes a process whose tracer gives bad ids (OpenMetrics, exemplar storage)', function () {
  this.timeout(90_000);

  it('the target is up, the samples are stored, and only the valid span context is stored as an exemplar', async function () {
    requirePrometheus(this);
    const t = await startReady();
    const valid = await withTracing(new NodeTracerProvider(), () => {
      for (const sc of [
        { traceId: '0'.repeat(32), spanId: SPAN },
        { traceId: 'abc', spanId: 'def' },
        { traceId: 7, spanId: 8 },
      ]) {
        inContext({ ...sc, traceFlags: SAMPLED }, () =>
          t.metrics.recordRun({ name: 'bad', isCi: false, status: 0, durationMs: 150 }),
        );
      }
      return trace.getTracer('test').startActiveSpan('run', (span) => {
        t.metrics.recordRun({ name: 'good', isCi: false, status: 0, durationMs: 150 });
        span.end();
        return span.spanContext();
      });
    });
    let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    try {
      // startPrometheus waits until the target is up: a scrape answered 500 would never be.
      prom = await startPrometheus({ targets: [`127.0.0.1:${t.port}`], flags: ['--enable-feature=exemplar-storage'] });
      const counts = await prom.vector(`${METRIC}_count`);
      expect(counts.map((s) => [s.metric.name, s.value[1]]).sort()).to.deep.equal([
        ['bad', '3'],
        ['good', '1'],
      ]);
      let found: { trace_id?: string; span_id?: string }[] = [];
      for (let i = 0; i < 40 && found.length === 0; i++) {
        found = (await prom.exemplars(`${METRIC}_bucket`)).flatMap((s) => s.exemplars.map((e) => e.labels));
        if (found.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(found.map((l) => [l.trace_id, l.span_id])).to.deep.equal([[valid.traceId, valid.spanId]]);
    } finally {
      await prom?.stop();
      await t.shutdown();
    }
  });
});
