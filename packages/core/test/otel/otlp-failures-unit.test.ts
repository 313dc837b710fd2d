import { expect } from 'chai';
import {
  FINAL_FLUSH_BOUND_MS,
  defaultOtlpUrl,
  observeAttempts,
  type OtlpTarget,
} from '../../src/otel/otlp-failures.js';
import { exportOnce, exporter, failures, reasonOf, scripted, tick, withCode } from './otlp-failures-fakes.js';
import { ExportResultCode } from '@opentelemetry/core';

/*
 * OtlpFailures in-process, without a collector (issue 26): the wrapped transport and exporter are scripted, so each
 * line a user reads, each attempt's time and each retry decision is checked without waiting for real timeouts.
 * The end-to-end behaviour (a real refused port, a silent or 503 receiver) is in otlp-failures.test.ts.
 */

describe('core: OtlpFailures in-process, the line a user reads (issue 26)', () => {
  it('names each network error code, and any other E-code as a network error', async () => {
    const named: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'host not found',
      EAI_AGAIN: 'host name lookup failed',
      ECONNRESET: 'connection reset',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
      ETIMEDOUT: 'connection timed out',
      EPIPE: 'network error',
    };
    for (const [code, what] of Object.entries(named)) {
      expect(await reasonOf(withCode(code))).to.equal(`${what} (${code}); is a collector listening there?`);
    }
    // A code that only looks like one (not E plus capitals, whole) is not a network code: the message is the reason.
    for (const code of ['ERR_STREAM_DESTROYED', 'XECONNRESET', 'econnreset', 'E', 'EAI_AGAINX', 'toString'])
      expect(await reasonOf(withCode(code, 'stream gone')), code).to.equal('stream gone');
  });

  it('an HTTP status: the code, its text, and a hint for 404 and for 401/403', async () => {
    expect(await reasonOf(withCode(404, 'Not Found'))).to.equal(
      'HTTP 404 Not Found (is this an OTLP receiver, and the path right?)',
    );
    for (const code of [401, 403])
      expect(await reasonOf(withCode(code, 'Denied'))).to.equal(
        `HTTP ${code} Denied (OTEL_EXPORTER_OTLP_HEADERS carries credentials)`,
      );
    expect(await reasonOf(withCode(500, 'Internal Server Error'))).to.equal('HTTP 500 Internal Server Error');
    expect(await reasonOf(withCode(100, ''))).to.equal('HTTP 100');
    expect(await reasonOf(withCode(599, 'x'))).to.equal('HTTP 599 x');
    // Not a status code: the message is the reason.
    expect(await reasonOf(withCode(99, 'ninety-nine'))).to.equal('ninety-nine');
    expect(await reasonOf(withCode(600, 'six hundred'))).to.equal('six hundred');
    expect(await reasonOf(withCode('503', 'a string code'))).to.equal('a string code');
    const nonString = Object.assign(withCode(500), { message: 42 });
    expect(await reasonOf(nonString)).to.equal('HTTP 500');
  });

  it('no answer: an attempt that failed without an error, "Request timed out" or DEADLINE_EXCEEDED', async () => {
    expect(await reasonOf(undefined)).to.equal('no answer within 3000 ms');
    expect(await reasonOf(new Error('Request timed out'))).to.equal('no answer within 3000 ms');
    expect(await reasonOf(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'))).to.equal('no answer within 3000 ms');
    expect(await reasonOf(new Error('Request timed out!'))).to.equal('Request timed out!');
  });

  it('another error: its first line, spaces collapsed, at most 200 characters; ECONNREFUSED inside it is named', async () => {
    expect(await reasonOf(new Error('14 UNAVAILABLE:  No connection\n  at stack line'))).to.equal(
      '14 UNAVAILABLE: No connection',
    );
    expect(await reasonOf(new Error('14 UNAVAILABLE: Last error: connect ECONNREFUSED 127.0.0.1:4317'))).to.equal(
      'connection refused (ECONNREFUSED); is a collector listening there?',
    );
    expect(await reasonOf(new Error('a'.repeat(200)))).to.equal('a'.repeat(200));
    expect(await reasonOf(new Error('b'.repeat(201)))).to.equal(`${'b'.repeat(200)}…`);
    expect(await reasonOf('a thrown string')).to.equal('"a thrown string"');
  });

  it('the whole line: where the URL and the protocol came from, once per kind of failure a minute', async () => {
    const cases: [Partial<OtlpTarget>, string][] = [
      [
        { urlFrom: undefined, protocolFrom: undefined },
        'OTLP metrics export to http://collector:4318/v1/metrics failed: host not found (ENOTFOUND); is a collector listening there? ' +
          'The URL is the default: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, the full URL) to your collector; ' +
          'the protocol, http/protobuf, is the default (OTEL_EXPORTER_OTLP_PROTOCOL sets it). Reported once a minute while it lasts',
      ],
      [
        { signal: 'traces', urlFrom: 'OTEL_EXPORTER_OTLP_ENDPOINT', protocol: 'http/json' },
        'OTLP traces export to http://collector:4318/v1/metrics failed: host not found (ENOTFOUND); is a collector listening there? ' +
          'The URL is set by OTEL_EXPORTER_OTLP_ENDPOINT (plus /v1/traces); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT sets a full URL; ' +
          'the protocol, http/json, is set by OTEL_EXPORTER_OTLP_PROTOCOL. Reported once a minute while it lasts',
      ],
      [
        { urlFrom: 'OTEL_EXPORTER_OTLP_ENDPOINT', protocol: 'grpc', protocolFrom: 'options.otlp.protocol' },
        'OTLP metrics export to http://collector:4318/v1/metrics failed: host not found (ENOTFOUND); is a collector listening there? ' +
          'The URL is set by OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_EXPORTER_OTLP_METRICS_ENDPOINT sets a full URL; ' +
          'the protocol, grpc, is set by options.otlp.protocol. Reported once a minute while it lasts',
      ],
    ];
    for (const [target, line] of cases) {
      const { f, lines } = failures(target);
      const t = f.transport(scripted({ status: 'failure', error: withCode('ENOTFOUND') }));
      await t.send(new Uint8Array(1), 1000);
      await t.send(new Uint8Array(1), 1000);
      expect(lines).to.deep.equal([line]);
    }
    // A reason that does not end in "?" gets a full stop; another kind of failure is a line of its own.
    const { f, lines } = failures({ urlFrom: 'options.otlp.url' });
    const t = f.transport(scripted({ status: 'failure', error: withCode(503, 'Unavailable') }));
    await t.send(new Uint8Array(1), 1000);
    await f.transport(scripted({ status: 'failure', error: withCode('ECONNRESET') })).send(new Uint8Array(1), 1000);
    await t.send(new Uint8Array(1), 1000);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.contain('failed: HTTP 503 Unavailable. The URL is set by options.otlp.url; the protocol');
    expect(lines[1]).to.contain('failed: connection reset (ECONNRESET); is a collector listening there? The URL');
  });

  it('each kind of failure is limited on its own: HTTP codes apart, retry-later apart, a refusal however it is told', async () => {
    const { f, lines } = failures();
    const fail = (error: unknown) => f.transport(scripted({ status: 'failure', error })).send(new Uint8Array(1), 10);
    await fail(withCode(500, 'Internal Server Error'));
    await fail(withCode(404, 'Not Found'));
    await fail(withCode(500, 'Internal Server Error'));
    expect(lines, 'one line per status code').to.have.length(2);
    await f.transport(scripted({ status: 'retryable', retryInMillis: 1 })).send(new Uint8Array(1), 10);
    await fail(new Error('something else'));
    await fail(new Error('something else again'));
    expect(lines, 'retry-later and another error: one line each').to.have.length(4);
    // A refusal by its code and by gRPC's message is one kind: one line.
    await fail(withCode('ECONNREFUSED'));
    await fail(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:4317'));
    expect(lines).to.have.length(5);
  });

  it('the URL each exporter uses by default', () => {
    expect(defaultOtlpUrl('grpc', 'metrics')).to.equal('http://localhost:4317');
    expect(defaultOtlpUrl('http/json', 'traces')).to.equal('http://localhost:4318/v1/traces');
    expect(defaultOtlpUrl('http/protobuf', 'metrics')).to.equal('http://localhost:4318/v1/metrics');
  });
});

describe('core: OtlpFailures in-process, attempts and retries (issue 26)', () => {
  it('a successful attempt passes through untouched, with the exporter timeout when the budget is larger', async () => {
    const { f, lines } = failures({}, 10_000);
    const ok = { status: 'success' as const, data: new Uint8Array(2) };
    const inner = scripted(ok);
    const t = f.transport(inner);
    expect(await t.send(new Uint8Array(1), 3000)).to.equal(ok);
    expect(inner.timeouts).to.deep.equal([3000]);
    t.shutdown();
    expect(inner.shutdowns()).to.equal(1);
    expect(lines).to.deep.equal([]);
  });

  it('an attempt gets no more than what is left of the budget, counted from the first attempt of the same bytes', async () => {
    const { f } = failures({}, 100);
    const inner = scripted({ status: 'failure', error: withCode('ECONNRESET') });
    const t = f.transport(inner);
    const data = new Uint8Array(1);
    await t.send(data, 3000);
    expect(inner.timeouts[0]).to.be.within(1, 100);
    await tick(150);
    // The same bytes again (a retry) past the budget: not sent, not reported again; other bytes are a new export.
    expect(await t.send(data, 3000)).to.deep.include({ status: 'failure' });
    expect(inner.timeouts).to.have.length(1);
    await t.send(new Uint8Array(1), 3000);
    expect(inner.timeouts).to.have.length(2);
    expect(inner.timeouts[1]).to.be.within(1, 100);
  });

  it('a budget spent answers a failure without sending and without a line', async () => {
    const { f, lines } = failures({}, 1);
    const inner = scripted({ status: 'success' });
    const t = f.transport(inner);
    const data = new Uint8Array(1);
    await t.send(data, 3000);
    await tick(5);
    const r = await t.send(data, 3000);
    expect(r.status).to.equal('failure');
    expect(String((r as { error?: unknown }).error)).to.contain('budget spent');
    expect(inner.timeouts).to.have.length(1);
    // The exporter then fails the export with it, its cause already reported: no line for it there either.
    const failed = { code: ExportResultCode.FAILED, error: (r as { error?: Error }).error };
    expect(await exportOnce(f.exporter(exporter(failed)))).to.deep.equal([{ code: ExportResultCode.SUCCESS }]);
    expect(lines).to.deep.equal([]);
  });

  it('a retryable answer stays retryable while its retry fits the budget, the backoff growing 1.5 times up to 5 s', async () => {
    // Backoffs of the same bytes: 1200, 1800, 2700, 4050, then 5000 (not 6075): all under a 5.5 s budget.
    const { f, lines } = failures({}, 5500);
    const t = f.transport(scripted({ status: 'retryable' }));
    const data = new Uint8Array(1);
    for (let i = 0; i < 5; i++) expect((await t.send(data, 1000)).status, `attempt ${i + 1}`).to.equal('retryable');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('failed: the collector answered "retry later" (HTTP 429, 502, 503 or 504); is it');
    // Under a 4 s budget the fourth backoff (4050 ms) no longer fits: that answer is a failure (no retry).
    const short = failures({}, 4000).f.transport(scripted({ status: 'retryable' }));
    const again = new Uint8Array(1);
    for (let i = 0; i < 3; i++) expect((await short.send(again, 1000)).status).to.equal('retryable');
    const last = await short.send(again, 1000);
    expect(last.status).to.equal('failure');
    expect(String((last as { error?: unknown }).error)).to.contain('retry later');
  });

  it("the collector's own retry delay decides when it gives one", async () => {
    const { f } = failures({}, 5000);
    const t = f.transport(
      scripted({ status: 'retryable', retryInMillis: 100 }, { status: 'retryable', retryInMillis: 9000 }),
    );
    const first = await t.send(new Uint8Array(1), 1000);
    expect(first).to.deep.include({ status: 'retryable', retryInMillis: 100 });
    expect((await t.send(new Uint8Array(1), 1000)).status).to.equal('failure');
    // An error the transport gave is kept as is.
    const error = withCode('ECONNRESET');
    const kept = await f
      .transport(scripted({ status: 'retryable', error, retryInMillis: 10 }))
      .send(new Uint8Array(1), 1);
    expect(kept).to.deep.equal({ status: 'retryable', error, retryInMillis: 10 });
  });

  it('once closed, a retryable answer is final and an attempt gets at most the final flush bound', async () => {
    const { f } = failures({}, 60_000);
    const inner = scripted({ status: 'retryable', retryInMillis: 1 });
    const t = f.transport(inner);
    f.close();
    expect((await t.send(new Uint8Array(1), 30_000)).status).to.equal('failure');
    expect(inner.timeouts[0]).to.be.within(1, FINAL_FLUSH_BOUND_MS);
    expect(FINAL_FLUSH_BOUND_MS).to.equal(2000);
  });

  it('a second close() keeps the first deadline (shutting down twice does not give the exports more time)', async () => {
    const { f } = failures({}, 60_000);
    const inner = scripted({ status: 'success' });
    const t = f.transport(inner);
    f.close();
    await tick(100);
    f.close();
    await t.send(new Uint8Array(1), 30_000);
    // What is left of the first close's 2 s, at least 100 ms gone; a second deadline would leave about 2000 ms.
    expect(inner.timeouts[0]).to.be.within(1, FINAL_FLUSH_BOUND_MS - 100);
  });

  it('observeAttempts wraps the innermost transport of an export delegate, and only a delegate laid out so', async () => {
    const { f, lines } = failures();
    for (const d of [null, undefined, {}, { _transport: {} }, { _transport: { send: 1 } }])
      expect(observeAttempts(d, f)).to.equal(false);
    // HTTP: a retrying transport over the HTTP one; the HTTP one is wrapped, under the retries.
    const http = scripted({ status: 'failure', error: withCode('ECONNREFUSED') });
    const retrying = { send: () => Promise.resolve({ status: 'success' }), shutdown() {}, _transport: http };
    const delegate = { _transport: retrying };
    expect(observeAttempts(delegate, f)).to.equal(true);
    expect(delegate._transport).to.equal(retrying);
    expect(retrying._transport).to.not.equal(http);
    await retrying._transport.send(new Uint8Array(1), 100);
    expect(lines).to.have.length(1);
    // gRPC: the delegate's transport itself.
    const grpc = scripted({ status: 'failure', error: withCode('ENOTFOUND') });
    const grpcDelegate = { _transport: { ...grpc, _transport: { send: 'no' } } };
    expect(observeAttempts(grpcDelegate, f)).to.equal(true);
    await grpcDelegate._transport.send(new Uint8Array(1), 100);
    expect(grpc.timeouts).to.have.length(1);
    expect(lines).to.have.length(2);
  });
});
