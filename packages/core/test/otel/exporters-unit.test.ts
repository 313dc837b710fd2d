import { expect } from 'chai';
import { createRequire } from 'node:module';
import { AggregationTemporality, InstrumentType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { TelemetryConfigError } from '@tuist-telemetry/core';
import { resolveConfig } from '../../src/config/index.js';
import {
  loadOtlpPackage,
  OTLP_EXPORTER_PACKAGES,
  OTLP_EXPORTER_VERSION,
  otlpExporter,
  pushReaders,
} from '../../src/otel/exporters.js';

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
});
