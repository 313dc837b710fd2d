import { expect } from 'chai';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';
import { otlpReceiver, refusedPort, silentReceiver, within } from '../helpers/index.js';

/** Everything core reports at warn or error while `fn` runs, one string per call. */
async function captured<T>(fn: (lines: string[]) => Promise<T>): Promise<{ lines: string[]; result: T }> {
  const lines: string[] = [];
  const push = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  diag.setLogger(
    { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  try {
    return { lines, result: await fn(lines) };
  } finally {
    diag.disable();
  }
}

/** Resolves once a line matches; a line that never comes fails the test after a generous bound (helpers' within). */
async function lineMatching(lines: string[], re: RegExp): Promise<string> {
  let line: string | undefined;
  let stop = false;
  const poll = async () => {
    while (!stop && !(line = lines.find((l) => re.test(l)))) await new Promise((r) => setTimeout(r, 20));
    return line!;
  };
  try {
    return await within(poll(), `a warning matching ${re}`);
  } finally {
    stop = true;
  }
}

/** Shuts `t` down and returns how long that took (ms); a shutdown that never ends fails the test at the bound. */
async function timedShutdown(t: Telemetry): Promise<number> {
  const started = performance.now();
  await within(t.shutdown(), 'the end of shutdown()');
  return performance.now() - started;
}

/** Every telemetry a test started: shut down after it, also when the test failed before its own shutdown(). */
const started: Telemetry[] = [];
const tracked = (t: Telemetry) => (started.push(t), t);
const otlp = (env: Record<string, string>, extra: TelemetryOptions = {}) =>
  tracked(startTelemetry({ runtimeMetrics: false, ...extra, env: { OTEL_METRICS_EXPORTER: 'otlp', ...env } }));
const record = (t: Telemetry) => t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 10 });

describe('core: OTLP export failures are reported early, readably, once; shutdown stays bounded (issue 24 item 5)', () => {
  // A test that failed (a bounded wait) leaves no exporter behind to warn into the next test's logger.
  afterEach(() =>
    Promise.all(started.splice(0).map((t) => within(t.shutdown(), 'the end of shutdown()').catch(() => {}))),
  );

  it('a refused endpoint: one line naming the URL, the protocol and the variables, however many exports fail', async () => {
    const port = await refusedPort();
    const { lines, result: took } = await captured(async (lines) => {
      const t = otlp(
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
        { exportIntervalMs: 200 },
      );
      record(t);
      await lineMatching(lines, /OTLP metrics export/);
      // Several more exports fail meanwhile (one every 200 ms).
      await new Promise((r) => setTimeout(r, 1200));
      return timedShutdown(t);
    });
    expect(lines, 'one line in all: no JSON dump of a stack, no bare "timed out"').to.have.length(1);
    const line = lines[0]!;
    expect(line).to.not.contain('\n');
    expect(line).to.contain(
      `OTLP metrics export to http://127.0.0.1:${port}/v1/metrics failed: connection refused (ECONNREFUSED)`,
    );
    expect(line).to.contain('set by OTEL_EXPORTER_OTLP_ENDPOINT (plus /v1/metrics)');
    expect(line).to.contain('the protocol, http/json, is set by OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(took, 'shutdown() with the endpoint refused').to.be.below(3500);
  });

  it('a collector that never answers: "no answer within …" before the reader would time out, and a bounded shutdown', async () => {
    const rx = await silentReceiver();
    try {
      const { lines, result: took } = await captured(async (lines) => {
        const t = otlp(
          {
            OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
            OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/otlp/v1/metrics`,
          },
          { exportIntervalMs: 300 },
        );
        record(t);
        await lineMatching(lines, /OTLP metrics export/);
        await new Promise((r) => setTimeout(r, 1000));
        return timedShutdown(t);
      });
      expect(rx.requests(), 'the exports reached the receiver').to.be.greaterThan(1);
      // Each attempt was cut off when its export's time was up: no request is left open after shutdown.
      await new Promise((r) => setTimeout(r, 500));
      expect(await rx.connections(), 'connections left open').to.equal(0);
      expect(lines, lines.join('\n')).to.have.length(1);
      expect(lines[0]).to.match(
        new RegExp(`OTLP metrics export to ${rx.url}/otlp/v1/metrics failed: no answer within \\d+ ms\\. `),
      );
      expect(lines[0])
        .to.contain('set by OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;')
        .and.contain('the protocol, http/protobuf, is set by OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
      expect(took, 'shutdown() with the collector silent').to.be.below(3500);
    } finally {
      await rx.close();
    }
  });

  it('the default interval: shutdown() flushes once, bounded, against a silent collector and a refused port', async () => {
    const rx = await silentReceiver();
    const port = await refusedPort();
    try {
      const { lines, result } = await captured(async () => {
        const silent = otlp({ OTEL_EXPORTER_OTLP_ENDPOINT: rx.url });
        const refused = otlp(
          { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
          { otlp: { protocol: 'http/json' } },
        );
        record(silent);
        record(refused);
        return Promise.all([timedShutdown(silent), timedShutdown(refused)]);
      });
      expect(rx.requests(), 'the final flush reached the receiver').to.equal(1);
      for (const took of result) expect(took).to.be.below(3500);
      expect(lines, lines.join('\n')).to.have.length(2);
      expect(lines.find((l) => l.includes(rx.url))).to.match(
        /failed: no answer within \d+ ms\. .*the protocol, http\/protobuf, is the default \(OTEL_EXPORTER_OTLP_PROTOCOL sets it\)/,
      );
      expect(lines.find((l) => l.includes(String(port))))
        .to.contain('ECONNREFUSED')
        .and.contain('the protocol, http/json, is set by options.otlp.protocol');
    } finally {
      await rx.close();
    }
  });

  it('a collector answering 503 (retryable): shutdown sends the last export once and does not retry it', async () => {
    const rx = await silentReceiver(503);
    try {
      const { lines, result: took } = await captured(async () => {
        const t = otlp({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url });
        record(t);
        return timedShutdown(t);
      });
      expect(rx.requests(), 'one request: the final flush, not retried').to.equal(1);
      expect(lines, lines.join('\n')).to.have.length(1);
      expect(lines[0])
        .to.contain(
          `OTLP metrics export to ${rx.url}/v1/metrics failed: the collector answered "retry later" (HTTP 429, 502, 503 or 504)`,
        )
        .and.contain('set by OTEL_EXPORTER_OTLP_ENDPOINT');
      expect(took).to.be.below(3500);
      await new Promise((r) => setTimeout(r, 1500));
      expect(rx.requests(), 'no retry after shutdown either').to.equal(1);
    } finally {
      await rx.close();
    }
  });

  it('traces too: a refused OTLP traces endpoint is one line naming the traces variables, and shutdown stays bounded', async () => {
    const port = await refusedPort();
    const rx = await silentReceiver();
    try {
      const { lines, result } = await captured(async (lines) => {
        const refused = tracked(
          startTelemetry({
            runtimeMetrics: false,
            exporters: 'none',
            env: {
              OTEL_TRACES_EXPORTER: 'otlp',
              OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
              OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            },
          }),
        );
        trace.getTracer('test').startSpan('refused').end();
        const refusedTook = await timedShutdown(refused);
        await lineMatching(lines, /OTLP traces export/);
        const silent = tracked(
          startTelemetry({
            runtimeMetrics: false,
            exporters: 'none',
            env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url },
          }),
        );
        trace.getTracer('test').startSpan('silent').end();
        return [refusedTook, await timedShutdown(silent)];
      });
      expect(lines, lines.join('\n')).to.have.length(2);
      expect(lines[0])
        .to.contain(
          `OTLP traces export to http://127.0.0.1:${port}/v1/traces failed: connection refused (ECONNREFUSED)`,
        )
        .and.contain('The URL is set by OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;');
      expect(lines[1]).to.match(
        new RegExp(
          `OTLP traces export to ${rx.url}/v1/traces failed: no answer within \\d+ ms\\. The URL is set by OTEL_EXPORTER_OTLP_ENDPOINT \\(plus /v1/traces\\); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT sets a full URL`,
        ),
      );
      for (const took of result) expect(took).to.be.below(3500);
      expect(rx.requests()).to.equal(1);
    } finally {
      await rx.close();
    }
  });

  it('an endpoint that is not an OTLP receiver (HTTP 404): the status and what to check, once', async () => {
    const rx = await silentReceiver(404);
    try {
      const { lines } = await captured(async (lines) => {
        const t = otlp({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/wrong` }, { exportIntervalMs: 200 });
        record(t);
        await lineMatching(lines, /OTLP metrics export/);
        await new Promise((r) => setTimeout(r, 600));
        await within(t.shutdown(), 'the end of shutdown()');
      });
      expect(rx.requests(), 'several exports, no retry of a 404').to.be.greaterThan(1);
      expect(lines, lines.join('\n')).to.have.length(1);
      expect(lines[0]).to.contain(
        `OTLP metrics export to ${rx.url}/wrong failed: HTTP 404 Not Found (is this an OTLP receiver, and the path right?). The URL is set by OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;`,
      );
    } finally {
      await rx.close();
    }
  });

  it('a working collector: nothing is reported, every export arrives', async () => {
    const rx = await otlpReceiver();
    try {
      const { lines } = await captured(async () => {
        const t = otlp({ OTEL_EXPORTER_OTLP_ENDPOINT: rx.url }, { exportIntervalMs: 200 });
        record(t);
        while (rx.received.length < 3) await rx.next();
        await within(t.shutdown(), 'the end of shutdown()');
      });
      expect(lines).to.deep.equal([]);
    } finally {
      await rx.close();
    }
  });

  it('the first failed attempt is reported at once, before the exporter retries it', async () => {
    // 503 is retryable: with 3 s for the export, the exporter tries again about a second later. The export is
    // started by a flush rather than the interval (the same reader and exporter, without waiting 3 s for it).
    const rx = await silentReceiver(503);
    try {
      const { result: requestsAtLine } = await captured(async (lines) => {
        const t = otlp(
          { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_METRIC_EXPORT_TIMEOUT: '3000' },
          { exportIntervalMs: 600_000 },
        );
        record(t);
        void t.forceFlush().catch(() => {});
        await lineMatching(lines, /OTLP metrics export/);
        const seen = rx.requests();
        await within(t.shutdown(), 'the end of shutdown()');
        return seen;
      });
      expect(requestsAtLine, 'the line came with the first attempt, not after the retries').to.equal(1);
    } finally {
      await rx.close();
    }
  });

  it('grpc to a refused port: the same one line, naming grpc', async () => {
    const port = await refusedPort();
    const { lines, result: took } = await captured(async (lines) => {
      const t = otlp(
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
        { exportIntervalMs: 300 },
      );
      record(t);
      await lineMatching(lines, /OTLP metrics export/);
      await new Promise((r) => setTimeout(r, 700));
      return timedShutdown(t);
    });
    expect(lines, lines.join('\n')).to.have.length(1);
    expect(lines[0])
      .to.contain(`OTLP metrics export to http://127.0.0.1:${port} failed: connection refused (ECONNREFUSED)`)
      .and.contain('the protocol, grpc, is set by OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(took).to.be.below(3500);
  });
});
