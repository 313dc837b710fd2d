import { expect } from 'chai';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Telemetry } from '@tuist-telemetry/core';
import { catalog, logger, MetricStore, RateLimitedLogger } from '@tuist-telemetry/core/internal';
import {
  contextManagerOf,
  expectStrictOpenMetrics,
  expectPromtoolParses,
  startReady,
  withTracing,
  scrapeAs,
  PROMETHEUS_ACCEPT,
} from '../helpers/index.js';
import { isValidId } from '../../src/store/exemplars.js';

const METRIC = 'tuist_runs_duration_milliseconds';

/** Runs `fn` with a non-recording span of `sc` active (what `trace.wrapSpanContext` gives any caller). */
function inContext<T>(sc: unknown, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), trace.wrapSpanContext(sc as SpanContext)), fn);
}

/** Every exemplar of the body: [series line start, trace_id, span_id]. */
function exemplars(body: string): { line: string; traceId: string; spanId: string; value: string; ts: number }[] {
  const out = [];
  for (const line of body.split('\n')) {
    const m = / # \{trace_id="([^"]*)",span_id="([^"]*)"\} (\S+) (\S+)$/.exec(line);
    if (m) out.push({ line, traceId: m[1]!, spanId: m[2]!, value: m[3]!, ts: Number(m[4]) * 1000 });
    else expect(line, 'an exemplar in another shape').to.not.contain(' # {');
  }
  return out;
}

const SAMPLED = TraceFlags.SAMPLED;
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

describe('core: an exemplar only for a valid span context (issue 20 item 4)', () => {
  let t: Telemetry;
  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(() => t.shutdown());

  it('a real SDK tracer whose id generator gives numbers and objects: every scrape is served, with no exemplar', async function () {
    // A third-party tracer: the stock SDK with an id generator that does not give hex strings.
    const idGenerator = {
      generateTraceId: () => 1234567 as unknown as string,
      generateSpanId: () => ({ id: 7 }) as unknown as string,
    };
    await withTracing(new NodeTracerProvider({ idGenerator }), () =>
      trace.getTracer('test').startActiveSpan('run', (span) => {
        expect(typeof span.spanContext().traceId).to.equal('number');
        t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
        span.end();
      }),
    );
    const om = await scrapeAs(t, PROMETHEUS_ACCEPT);
    expect(om).to.contain(`${METRIC}_bucket{name="build",is_ci="false",status="0",le="200"} 1\n`);
    expect(exemplars(om)).to.deep.equal([]);
    expectStrictOpenMetrics(om);
    expectPromtoolParses(this, om);
    expectPromtoolParses(this, await scrapeAs(t, 'text/plain'));
  });

  it('hand-made contexts: only 32/16 hex digits, not all zero, give an exemplar; upper case is served lower-cased', async function () {
    const bad: [string, unknown][] = [
      ['number', { traceId: 1234, spanId: 5678, traceFlags: SAMPLED }],
      ['object', { traceId: { id: TRACE }, spanId: [SPAN], traceFlags: SAMPLED }],
      ['bigint', { traceId: 12345678901234567890123456789012n, spanId: 1234567890123456n, traceFlags: SAMPLED }],
      ['tostring', { traceId: { toString: () => TRACE }, spanId: { toString: () => SPAN }, traceFlags: SAMPLED }],
      ['short', { traceId: 'abc', spanId: 'def', traceFlags: SAMPLED }],
      ['long', { traceId: TRACE + '0', spanId: SPAN + '0', traceFlags: SAMPLED }],
      ['nonhex', { traceId: 'g' + TRACE.slice(1), spanId: SPAN, traceFlags: SAMPLED }],
      ['nonhexspan', { traceId: TRACE, spanId: SPAN.slice(1) + 'z', traceFlags: SAMPLED }],
      ['unicode', { traceId: TRACE.slice(1) + '٣', spanId: SPAN, traceFlags: SAMPLED }],
      ['zerotrace', { traceId: '0'.repeat(32), spanId: SPAN, traceFlags: SAMPLED }],
      ['zerospan', { traceId: TRACE, spanId: '0'.repeat(16), traceFlags: SAMPLED }],
      ['missing', { traceFlags: SAMPLED }],
    ];
    await withTracing(new NodeTracerProvider(), () => {
      for (const [name, sc] of bad) {
        // A valid context's exemplar, then the bad context in the same bucket: the bad one must not replace it.
        inContext({ traceId: TRACE, spanId: SPAN, traceFlags: SAMPLED }, () =>
          t.metrics.recordRun({ name, isCi: false, status: 0, durationMs: 150 }),
        );
        inContext(sc, () => t.metrics.recordRun({ name, isCi: false, status: 0, durationMs: 160 }));
        // In a bucket of its own: no exemplar at all.
        inContext(sc, () => t.metrics.recordRun({ name, isCi: false, status: 0, durationMs: 300 }));
      }
      // A valid upper-case context (after another valid one of another trace in the same bucket, which it replaces
      // whole): served lower-cased.
      inContext({ traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: SAMPLED }, () =>
        t.metrics.recordRun({ name: 'upper', isCi: false, status: 0, durationMs: 120 }),
      );
      inContext({ traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), traceFlags: SAMPLED }, () =>
        t.metrics.recordRun({ name: 'upper', isCi: false, status: 0, durationMs: 150 }),
      );
    });
    const om = await scrapeAs(t, PROMETHEUS_ACCEPT);
    for (const [name] of bad) {
      expect(om, name).to.contain(`${METRIC}_bucket{name="${name}",is_ci="false",status="0",le="200"} 2 # {`);
      expect(om, name).to.contain(`${METRIC}_bucket{name="${name}",is_ci="false",status="0",le="400"} 3\n`);
    }
    const got = exemplars(om);
    expect(got.map((e) => /name="([^"]+)"/.exec(e.line)![1]).sort()).to.deep.equal(
      [...bad.map(([name]) => name), 'upper'].sort(),
    );
    for (const e of got) {
      expect(e.line).to.contain('le="200"');
      expect([e.traceId, e.spanId, e.value]).to.deep.equal([TRACE, SPAN, '150']);
    }
    expectStrictOpenMetrics(om);
    // promtool reads text 0.0.4 (exemplars are OpenMetrics only).
    expectPromtoolParses(this, await scrapeAs(t, 'text/plain'));
  });
});

describe('core: checking span contexts allocates nothing per record', () => {
  it('records inside a span context that changes on every call (valid, upper-case and invalid ids): no minor GC', async function () {
    // Under `npm run mutate` Stryker's coverage counters allocate on every instrumented call, so no GC count can hold
    // there; the mutants this test would kill are about allocation, which only the plain run can see.
    if ((globalThis as { __stryker__?: unknown }).__stryker__ !== undefined) this.skip();
    // A context manager (the API's extension point) whose active context changes on every call, as on a server that
    // interleaves requests: every record checks new ids. Real span contexts, built once.
    const contexts: Context[] = Array.from({ length: 1024 }, (_, i) => {
      const traceId = i % 7 === 0 ? 'abc' : randomBytes(16).toString('hex');
      return trace.setSpan(
        ROOT_CONTEXT,
        trace.wrapSpanContext({
          traceId: i % 3 === 0 ? traceId.toUpperCase() : traceId,
          spanId: randomBytes(8).toString('hex'),
          traceFlags: SAMPLED,
        }),
      );
    });
    let k = 0;
    const manager = contextManagerOf(() => contexts[k++ & 1023]!);
    context.setGlobalContextManager(manager);
    try {
      const store = new MetricStore(catalog, {
        naming: 'docs',
        highCardinality: new Set(),
        enabledHighCardinality: new Set(),
        maxLabelValues: 10,
        warn: new RateLimitedLogger(logger('test')),
      });
      const h = store.histogram(METRIC);
      const labels = { name: 'build', is_ci: 'false', status: '0' };
      const values = Array.from({ length: 1024 }, (_, i) => (i * 997) % 3_000_000);
      for (let i = 0; i < 200_000; i++) h.record(values[i & 1023]!, labels); // warm: every bucket has its exemplar
      let minor = 0;
      const gcs = new PerformanceObserver((list) => {
        for (const e of list.getEntries())
          if ((e.detail as { kind?: number } | null)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
      });
      gcs.observe({ entryTypes: ['gc'] });
      // 5 million records: 16 bytes each would be 80 MB, several minor GCs (a planted allocation gave 10).
      for (let i = 0; i < 5_000_000; i++) h.record(values[i & 1023]!, labels);
      await new Promise((r) => setTimeout(r, 100));
      gcs.disconnect();
      expect(minor, 'minor GCs during 5M records').to.be.at.most(2);
      expect([...h.series][0]!.exemplars!.some((e) => e !== undefined)).to.equal(true);
    } finally {
      context.disable();
    }
  });
});

describe('core: exemplar timestamps (issue 26)', () => {
  let t: Telemetry;
  before(async () => {
    t = await startReady();
  });
  after(() => t.shutdown());

  const recordAt = (name: string, durationMs: number) =>
    inContext({ traceId: TRACE, spanId: SPAN, traceFlags: SAMPLED }, () =>
      t.metrics.recordRun({ name, isCi: false, status: 0, durationMs }),
    );
  const exemplarOf = async (name: string) =>
    exemplars(await scrapeAs(t, PROMETHEUS_ACCEPT)).find((e) => e.line.includes(`name="${name}"`))!;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('is the time of the observation, in seconds with milliseconds, also after the clock stopped for lack of exemplars', async () => {
    await withTracing(new NodeTracerProvider(), async () => {
      // First exemplars after a long pause (the 250 ms clock has stopped): the time is read afresh.
      await sleep(1500);
      const before = Date.now();
      recordAt('first', 150);
      const after = Date.now();
      const e = await exemplarOf('first');
      expect(/ \d+\.\d{3}$/.test(e.line), e.line).to.equal(true);
      expect(e.ts, `${e.ts} not within ${before - 1000}..${after}`).to.be.within(before - 1000, after);
    });
  });

  it('follows the clock while exemplars keep being recorded (refreshed, not frozen at the first one)', async () => {
    await withTracing(new NodeTracerProvider(), async () => {
      const start = Date.now();
      recordAt('steady', 150);
      // Keep recording every 50 ms for 2.5 s: the clock must keep moving.
      while (Date.now() - start < 2500) {
        await sleep(50);
        recordAt('steady', 150);
      }
      const last = Date.now();
      const e = await exemplarOf('steady');
      expect(e.ts, `${e.ts} is not within 1 s before the last record (${last})`).to.be.within(last - 1000, last);
      expect(e.ts - start).to.be.greaterThan(1000);
    });
  });
});

describe('core: the id rule, character by character (issue 26)', () => {
  it('n hex digits of either case, not all zero; the neighbours of each hex range and codes from 128 up are not', () => {
    expect(isValidId('0123456789abcdef', 16)).to.equal(true);
    expect(isValidId('ABCDEF0123456789', 16)).to.equal(true);
    expect(isValidId('0000000000000001', 16)).to.equal(true);
    expect(isValidId('1000000000000000', 16)).to.equal(true);
    expect(isValidId('0'.repeat(16), 16)).to.equal(false);
    expect(isValidId('0'.repeat(32), 32)).to.equal(false);
    expect(isValidId('a'.repeat(15), 16)).to.equal(false);
    expect(isValidId('a'.repeat(17), 16)).to.equal(false);
    expect(isValidId(12345678, 8)).to.equal(false);
    expect(isValidId(undefined, 16)).to.equal(false);
    // Just outside '0'-'9', 'a'-'f', 'A'-'F', and codes whose low 7 bits are a hex digit ('\u00b0' & 127 is '0').
    for (const c of ['/', ':', '`', 'g', '@', 'G', ' ', '\u00b0', '\u00e1', '\u0141', '\u0161'])
      expect(isValidId(`${c}${'1'.repeat(15)}`, 16), JSON.stringify(c)).to.equal(false);
    for (const c of ['/', ':', 'g', '\u00b0'])
      expect(isValidId(`${'1'.repeat(15)}${c}`, 16), JSON.stringify(c)).to.equal(false);
  });
});
