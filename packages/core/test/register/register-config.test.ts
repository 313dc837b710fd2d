import { expect } from 'chai';
import { startTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';
import { startApp, type ChildApp, coreDir, fixturePath, hostEnv, underRegister } from '../helpers/index.js';

/** Apps started by the test running now; a hung one is killed when the test ends (failed by its timeout). */
const started: ChildApp[] = [];

const app = fixturePath('register-config-app.ts');
const hide = fixturePath('hide-packages.cjs');

/** Runs the app under register with only `env` configured; its exit code, READY line and every other line. */
async function run(
  env: Record<string, string>,
  preload: string[] = [],
): Promise<{ code: number | null; ready: string; lines: string[]; output: string }> {
  const p = startApp([...preload, ...underRegister(app)], { cwd: coreDir, env: hostEnv({ NODE_OPTIONS: '', ...env }) });
  started.push(p);
  const { code } = await p.exit;
  const output = p.output();
  const ready = /READY (.*)\n/.exec(output)?.[1] ?? '';
  return { code, ready, output, lines: output.split('\n').filter((l) => l !== '' && !l.startsWith('READY ')) };
}

describe('core: zero code never stops the app (issue 24 item 6)', () => {
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.stop()));
  });
  it('OTEL_TRACES_EXPORTER=bogus: one error line naming it, traces stay off, metrics run, the app runs and exits 0', async () => {
    const r = await run({ OTEL_TRACES_EXPORTER: 'bogus' });
    expect(r.code, r.output).to.equal(0);
    expect(r.ready).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics traces=none$/);
    expect(r.lines, r.output).to.have.length(1);
    expect(r.lines[0]).to.match(
      /^error: @tuist-telemetry\/core\/register OTEL_TRACES_EXPORTER: unknown [a-z]* "bogus".*; traces stay off; metrics run, and the app runs$/,
    );
  });

  it('OTEL_TRACES_EXPORTER=otlp without its exporter package: one line naming the package to install, traces off, the app runs', async () => {
    const r = await run({ OTEL_TRACES_EXPORTER: 'otlp', HIDE_PACKAGES: '@opentelemetry/exporter-trace-otlp-proto' }, [
      '--require',
      hide,
    ]);
    expect(r.code, r.output).to.equal(0);
    expect(r.ready).to.match(/metrics traces=none$/);
    expect(r.lines, r.output).to.have.length(1);
    expect(r.lines[0]).to.match(
      /^error: .*OTEL_TRACES_EXPORTER=otlp .*npm install @opentelemetry\/exporter-trace-otlp-proto.*; traces stay off/,
    );
  });

  it('OTEL_METRICS_EXPORTER=prometheus,otlp without the OTLP package: one line naming it, the endpoint keeps serving', async () => {
    const r = await run(
      { OTEL_METRICS_EXPORTER: 'prometheus,otlp', HIDE_PACKAGES: '@opentelemetry/exporter-metrics-otlp-proto' },
      ['--require', hide],
    );
    expect(r.code, r.output).to.equal(0);
    expect(r.ready).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics traces=none$/);
    expect(r.lines, r.output).to.have.length(1);
    expect(r.lines[0]).to.match(
      /^error: .*OTEL_METRICS_EXPORTER=otlp .*npm install @opentelemetry\/exporter-metrics-otlp-proto.*; metrics are served on the Prometheus endpoint only \(no push exporter\), and the app runs$/,
    );
  });

  it('a mistake outside traces (OTEL_METRICS_EXPORTER of 10 KB): one line of bounded length, telemetry off, the app runs', async () => {
    const r = await run({ OTEL_METRICS_EXPORTER: 'x'.repeat(10_000) });
    expect(r.code, r.output).to.equal(0);
    expect(r.ready).to.equal('off traces=off');
    expect(r.lines, r.output).to.have.length(1);
    expect(r.lines[0]).to.match(
      /^error: .*OTEL_METRICS_EXPORTER: unknown exporter "x{200}…"; valid values are .*; telemetry stays off/,
    );
    expect(r.lines[0]!.length).to.be.lessThan(500);
  });

  it('a 10 KB OTEL_NODE_ENABLED_INSTRUMENTATIONS is echoed up to 200 characters in its one warning', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `library-${i}`).join(',');
    const r = await run({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: names, OTEL_METRICS_EXPORTER: 'none' });
    expect(r.code, r.output).to.equal(0);
    expect(r.lines, r.output).to.have.length(1);
    expect(r.lines[0]).to.match(
      /^warn: .*ignoring unknown instrumentation "library-0", "library-1", .*…; the Tuist instrumentations are pg, undici, aws-sdk, http$/,
    );
    expect(r.lines[0]!.length).to.be.lessThan(500);
  });

  it('startTelemetry() called from code still throws TelemetryConfigError for the same mistakes', () => {
    for (const env of [{ OTEL_TRACES_EXPORTER: 'bogus' }, { OTEL_METRICS_EXPORTER: 'bogus' }]) {
      expect(
        () => startTelemetry({ env, prometheus: { port: 0 }, setGlobalMeterProvider: false, runtimeMetrics: false }),
        JSON.stringify(env),
      ).to.throw(TelemetryConfigError, Object.keys(env)[0]!);
    }
  });
});
