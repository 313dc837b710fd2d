import { expect } from 'chai';
import { createRequire } from 'node:module';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { AggregationTemporality, InstrumentType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { TelemetryConfigError } from '@tuist-telemetry/core';
import { catalog, MetricStore } from '@tuist-telemetry/core/internal';
import { resolveConfig } from '../../src/config/index.js';
import {
  loadOtlpPackage,
  OTLP_EXPORTER_PACKAGES,
  OTLP_EXPORTER_VERSION,
  otlpExporter,
  pushReaders,
} from '../../src/otel/exporters.js';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { OtlpFailures } from '../../src/otel/otlp-failures.js';
import { StoreMetricProducer } from '../../src/otel/producer.js';
import { grpcReceiver, otlpReceiver, refusedPort, STORE_OPTIONS } from '../helpers/index.js';

/** What core reports through OTel's diag while `fn` runs, each call's arguments joined. */
async function diagLines<T>(fn: () => Promise<T>): Promise<{ lines: string[]; result: T }> {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  diag.setLogger(
    { error: keep, warn: keep, info() {}, debug() {}, verbose() {} },
    {
      logLevel: DiagLogLevel.WARN,
      suppressOverrideMessage: true,
    },
  );
  try {
    return { lines, result: await fn() };
  } finally {
    diag.disable();
  }
}

/** One collection of a store with one run recorded, as the push readers hand it to the exporter. */
async function oneExport() {
  const store = new MetricStore(catalog, STORE_OPTIONS);
  store.counter('tuist_runs_total').add(1, { name: 'build', is_ci: 'true', status: '0' });
  return (await new StoreMetricProducer(store).collect()).resourceMetrics;
}

/** Runs `fn` with these process environment variables set, then restores them. */
async function withProcessEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/*
 * exporters.ts in-process (issue 26): the start-up error for a missing exporter package, the temporality the OTLP
 * exporter is built with, and the push readers made from the configuration. Exports to a real receiver are in
 * exporters.test.ts and temporality.test.ts.
 */

const PKG = '@opentelemetry/exporter-metrics-otlp-http';
const missing = (code: string, message: string) => () => {
  throw Object.assign(new Error(message), { code });
};
const load = (f: () => unknown) =>
  loadOtlpPackage(
    'http/json',
    OTLP_EXPORTER_PACKAGES,
    'OTEL_METRICS_EXPORTER',
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
    f,
  );

describe('core: exporters.ts in-process (issue 26)', () => {
  it('a missing exporter package (CommonJS or ESM, either quote) is a start-up error saying what to install', () => {
    const expected =
      `OTEL_METRICS_EXPORTER=otlp with protocol http/json needs ${PKG}: npm install ${PKG}@${OTLP_EXPORTER_VERSION} ` +
      '(or choose another protocol with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: grpc, http/json, http/protobuf)';
    for (const thrower of [
      missing('MODULE_NOT_FOUND', `Cannot find module '${PKG}'`),
      missing('ERR_MODULE_NOT_FOUND', `Cannot find package "${PKG}" imported from /app/x.js`),
    ]) {
      expect(() => load(thrower))
        .to.throw(TelemetryConfigError)
        .with.property('message', expected);
    }
    expect(OTLP_EXPORTER_VERSION).to.match(/^0\.\d+\.\d+$/);
  });

  it('anything else is rethrown unchanged: another module missing, another code, a non-error', () => {
    for (const thrower of [
      missing('MODULE_NOT_FOUND', "Cannot find module 'protobufjs'"),
      missing('ERR_REQUIRE_ESM', `require() of ES Module '${PKG}'`),
      missing('MODULE_NOT_FOUND', `Cannot find module ${PKG}`),
    ]) {
      let caught: unknown;
      try {
        load(thrower);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(Error).and.not.instanceOf(TelemetryConfigError);
    }
    for (const value of [null, undefined, 'a string', { code: 'MODULE_NOT_FOUND', message: 42 }]) {
      let caught: unknown = 'nothing';
      try {
        load(() => {
          throw value;
        });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.equal(value);
    }
    const mod = { OTLPMetricExporter: class {} };
    expect(load(() => mod)).to.equal(mod);
  });

  it('the OTLP exporter is built with the temporality preference, which decides per instrument kind', async () => {
    const require = createRequire(import.meta.url);
    const expected = {
      cumulative: [
        AggregationTemporality.CUMULATIVE,
        AggregationTemporality.CUMULATIVE,
        AggregationTemporality.CUMULATIVE,
      ],
      delta: [AggregationTemporality.DELTA, AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE],
      lowmemory: [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE, AggregationTemporality.CUMULATIVE],
    } as const;
    for (const protocol of ['http/json', 'http/protobuf', 'grpc'] as const) {
      for (const [preference, temporalities] of Object.entries(expected)) {
        const e = otlpExporter(protocol, undefined, require, preference as keyof typeof expected);
        const got = [InstrumentType.COUNTER, InstrumentType.OBSERVABLE_COUNTER, InstrumentType.UP_DOWN_COUNTER].map(
          (k) => e.selectAggregationTemporality!(k),
        );
        expect(got, `${protocol} ${preference}`).to.deep.equal([...temporalities]);
        await e.shutdown();
      }
    }
  });

  it('one periodic reader per push exporter named, each with its own producer, the interval and the timeout', async () => {
    const config = resolveConfig({
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp,console',
        OTEL_METRIC_EXPORT_INTERVAL: '7000',
        OTEL_METRIC_EXPORT_TIMEOUT: '3000',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      },
    });
    let made = 0;
    const readers = pushReaders(config, () => {
      made++;
      return {
        collect: async () => ({ resourceMetrics: { resource: undefined as never, scopeMetrics: [] }, errors: [] }),
      };
    });
    expect(readers).to.have.length(2);
    expect(made, 'a producer per reader').to.equal(2);
    for (const r of readers) {
      const inner = r as unknown as { _exportInterval: number; _exportTimeout: number };
      expect([inner._exportInterval, inner._exportTimeout]).to.deep.equal([7000, 3000]);
    }
    const provider = new MeterProvider({ readers });
    await provider.shutdown();
    expect(
      pushReaders(resolveConfig({ env: { OTEL_METRICS_EXPORTER: 'prometheus' } }), () => made++ as never),
    ).to.deep.equal([]);
    expect(made).to.equal(2);
  });

  it('otlpExporter: a missing package names the metrics variables and the protocols', () => {
    expect(() =>
      otlpExporter(
        'grpc',
        undefined,
        missing('MODULE_NOT_FOUND', "Cannot find module '@opentelemetry/exporter-metrics-otlp-grpc'"),
      ),
    )
      .to.throw(TelemetryConfigError)
      .with.property(
        'message',
        'OTEL_METRICS_EXPORTER=otlp with protocol grpc needs @opentelemetry/exporter-metrics-otlp-grpc: ' +
          `npm install @opentelemetry/exporter-metrics-otlp-grpc@${OTLP_EXPORTER_VERSION} ` +
          '(or choose another protocol with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: grpc, http/json, http/protobuf)',
      );
  });

  it('each protocol is built with exemplars as laid out in this version: no fallback warning, with or without failures', async () => {
    const require = createRequire(import.meta.url);
    const { lines } = await diagLines(async () => {
      for (const protocol of ['http/json', 'http/protobuf', 'grpc'] as const) {
        await otlpExporter(protocol, undefined, require).shutdown();
        const target = { signal: 'metrics' as const, url: 'x', protocol, urlFrom: undefined, protocolFrom: undefined };
        const failures = new OtlpFailures(target, 1000, new RateLimitedLogger(diag));
        await otlpExporter(protocol, undefined, require, undefined, failures).shutdown();
      }
    });
    expect(lines, lines.join('\n')).to.deep.equal([]);
  });

  it('without a URL, the exporter takes its endpoint from the process environment, signal path and all', async () => {
    const rx = await otlpReceiver();
    const require = createRequire(import.meta.url);
    const data = await oneExport();
    const send = (e: ReturnType<typeof otlpExporter>) =>
      new Promise<number>((resolve) => e.export(data, (r) => resolve(r.code)));
    try {
      for (const protocol of ['http/json', 'http/protobuf'] as const) {
        await withProcessEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: rx.url }, async () => {
          const e = otlpExporter(protocol, undefined, require);
          expect(await send(e)).to.equal(0);
          await e.shutdown();
        });
        await withProcessEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/custom/path` }, async () => {
          const e = otlpExporter(protocol, undefined, require);
          expect(await send(e)).to.equal(0);
          await e.shutdown();
        });
      }
      expect(rx.received.map((r) => [r.path, r.contentType])).to.deep.equal([
        ['/v1/metrics', 'application/json'],
        ['/custom/path', 'application/json'],
        ['/v1/metrics', 'application/x-protobuf'],
        ['/custom/path', 'application/x-protobuf'],
      ]);
    } finally {
      await rx.close();
    }
  });

  it('grpc without a URL takes OTEL_EXPORTER_OTLP_METRICS_ENDPOINT from the process environment too', async () => {
    const rx = await grpcReceiver();
    const data = await oneExport();
    try {
      await withProcessEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: rx.url }, async () => {
        const e = otlpExporter('grpc', undefined, createRequire(import.meta.url));
        const arrived = rx.next();
        const code = await new Promise<number>((resolve) => e.export(data, (r) => resolve(r.code)));
        expect(code).to.equal(0);
        expect((await arrived).length).to.be.greaterThan(0);
        await e.shutdown();
      });
    } finally {
      await rx.close();
    }
  });

  it("a push reader's OTLP failures go to core's diag by default; one producer object serves every reader", async () => {
    const port = await refusedPort();
    const config = resolveConfig({
      env: {
        OTEL_METRICS_EXPORTER: 'otlp,console',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
        // Retries of the refused export end with the export's time: short here.
        OTEL_METRIC_EXPORT_TIMEOUT: '300',
      },
    });
    const store = new MetricStore(catalog, STORE_OPTIONS);
    store.counter('tuist_runs_total').add(1, { name: 'build', is_ci: 'true', status: '0' });
    const producer = new StoreMetricProducer(store);
    const original = console.dir;
    console.dir = () => {};
    const { lines } = await diagLines(async () => {
      const readers = pushReaders(config, producer);
      expect(readers).to.have.length(2);
      const provider = new MeterProvider({ readers });
      try {
        await provider.forceFlush();
      } finally {
        await provider.shutdown();
        console.dir = original;
      }
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      new RegExp(
        `^@tuist-telemetry/core OTLP metrics export to http://127\\.0\\.0\\.1:${port}/v1/metrics failed: connection refused`,
      ),
    );
  });
});
