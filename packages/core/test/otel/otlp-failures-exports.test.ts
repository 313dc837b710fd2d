import { expect } from 'chai';
import { ExportResultCode } from '@opentelemetry/core';
import { exportOnce, exporter, failures, scripted, tick, withCode } from './otlp-failures-fakes.js';

/*
 * OtlpFailures.exporter in-process (issue 26): what the metric reader or span processor sees of an export (it ends
 * in time and is handled), flushes and shutdowns bounded once closed. The line a user reads and the attempts are in
 * otlp-failures-unit.test.ts; a real collector in otlp-failures.test.ts.
 */

describe('core: OtlpFailures in-process, exports end in time and are handled (issue 26)', () => {
  it('a success passes, a failure is reported once and handled, a throw is reported and handled', async () => {
    const { f, lines } = failures();
    expect(await exportOnce(f.exporter(exporter({ code: ExportResultCode.SUCCESS })))).to.deep.equal([
      { code: ExportResultCode.SUCCESS },
    ]);
    expect(lines).to.deep.equal([]);
    const failed = f.exporter(exporter({ code: ExportResultCode.FAILED, error: withCode('ECONNREFUSED') }));
    expect(await exportOnce(failed)).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('connection refused (ECONNREFUSED)');
    const threw = f.exporter(exporter(undefined, withCode(404, 'Not Found')));
    expect(await exportOnce(threw)).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.have.length(2);
    expect(lines[1]).to.contain('failed: HTTP 404 Not Found (is this');
  });

  it('an export nobody answers ends at the budget, said as "no answer", and a late answer is not passed on', async () => {
    const { f, lines } = failures({}, 100);
    const inner = exporter();
    const results = await exportOnce(f.exporter(inner));
    expect(results).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.have.length(1);
    const waited = Number(/no answer within (\d+) ms\. The URL/.exec(lines[0]!)?.[1]);
    expect(waited, 'the time since the export started').to.be.within(100, 60_000);
    inner.late({ code: ExportResultCode.FAILED, error: withCode('ECONNRESET') });
    await tick(20);
    expect(results, 'done is called once').to.have.length(1);
  });

  it('with its attempts in sight, a cut-off export adds no line (the attempt reports itself), unless shutting down', async () => {
    const { f, lines } = failures({}, 100);
    f.transport(scripted({ status: 'success' }));
    expect(await exportOnce(f.exporter(exporter()))).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.deep.equal([]);
    f.close();
    expect(await exportOnce(f.exporter(exporter()))).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('no answer within');
  });

  it('an export whose attempt failed already adds no second line when it is cut off', async () => {
    const { f, lines } = failures({}, 150);
    const inner = exporter();
    const wrapped = f.exporter(inner);
    f.close();
    const results = exportOnce(wrapped);
    await f.transport(scripted({ status: 'failure', error: withCode('ECONNRESET') })).send(new Uint8Array(1), 10);
    expect(await results).to.have.length(1);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('ECONNRESET');
  });

  it('an answer within the budget is waited for, and a failure without an error says how long it waited', async () => {
    const { f, lines } = failures({}, 10_000);
    const late = exporter();
    const results = exportOnce(f.exporter(late));
    await tick(30);
    late.late({ code: ExportResultCode.FAILED, error: withCode('ECONNRESET') });
    expect(await results).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.have.length(1);
    expect(lines[0], 'the answer, not a cut-off').to.contain('connection reset (ECONNRESET)');
    await exportOnce(f.exporter(exporter({ code: ExportResultCode.FAILED })));
    const waited = Number(/no answer within (\d+) ms\. The URL/.exec(lines[1] ?? '')?.[1]);
    expect(waited).to.be.within(0, 60_000);
  });

  it('once closed, a flush still waits for an exporter that finishes before the bound', async () => {
    const { f } = failures();
    f.close();
    let flushed = false;
    const slow = { ...exporter(), forceFlush: () => tick(30).then(() => void (flushed = true)) };
    await f.exporter(slow).forceFlush!();
    expect(flushed).to.equal(true);
  });

  it('close() cuts the exports in flight and a flush to the final flush bound, once', async () => {
    const { f, lines } = failures({}, 60_000);
    const started = Date.now();
    const results = exportOnce(f.exporter(exporter()));
    await tick(10);
    f.close();
    f.close();
    const never = { ...exporter(), forceFlush: () => new Promise<void>(() => {}) };
    await f.exporter(never).forceFlush!();
    expect(await results).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(Date.now() - started, 'ended by the final flush bound, not the 60 s budget').to.be.below(30_000);
    expect(lines).to.have.length(1);
  });

  it('forceFlush and shutdown reach the exporter; once closed they are bounded and swallow its rejection', async () => {
    const { f } = failures();
    const inner = exporter({ code: ExportResultCode.SUCCESS });
    const wrapped = f.exporter(inner);
    await wrapped.forceFlush!();
    await wrapped.shutdown();
    expect(inner.calls).to.deep.include({ forceFlush: 1, shutdown: 1 });
    const rejecting = { ...inner, shutdown: () => Promise.reject(new Error('shut')) };
    const open = f.exporter(rejecting);
    let caught: unknown;
    await open.shutdown().catch((e: unknown) => (caught = e));
    expect(String(caught), 'before close() the exporter answers for itself').to.contain('shut');
    f.close();
    await f.exporter(rejecting).shutdown();
    const noFlush = { export: inner.export, shutdown: inner.shutdown };
    // An exporter without forceFlush (a SpanExporter may have none): the wrapper's resolves.
    await (f.exporter(noFlush) as unknown as { forceFlush(): Promise<void> }).forceFlush();
  });

  it('the temporality and aggregation choices are the exporter’s own, called on it', () => {
    const { f } = failures();
    const inner = {
      ...exporter(),
      which: 'inner',
      selectAggregationTemporality(this: { which: string }) {
        return this.which;
      },
      selectAggregation(this: { which: string }) {
        return `${this.which} aggregation`;
      },
    };
    const wrapped = f.exporter(inner);
    expect(wrapped.selectAggregationTemporality.call({ which: 'other' })).to.equal('inner');
    expect(wrapped.selectAggregation.call({ which: 'other' })).to.equal('inner aggregation');
    const plain = f.exporter({ ...exporter(), selectAggregation: 'not a function' }) as { selectAggregation?: unknown };
    expect(plain.selectAggregation).to.equal(undefined);
    expect('selectAggregationTemporality' in f.exporter(exporter())).to.equal(false);
  });
});
