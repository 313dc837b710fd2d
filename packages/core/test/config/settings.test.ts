// The settings table's readers (found, readEnum, readQuietly) and the OpenTelemetry SDK settings (otel.ts), in-process:
// how each kind of value is compared, which source wins, and the exact message of each mistake.
import { expect } from 'chai';
import { mistake } from '../helpers/index.js';
import { resolveConfig } from '../../src/config/index.js';
import type { TelemetryOptions } from '../../src/config/index.js';
import { readQuietly } from '../../src/settings/table.js';

describe('core settings: value lists are compared as each setting says', () => {
  it('OpenTelemetry variables and their options are case-insensitive and trimmed (OTEL_TRACES_SAMPLER)', () => {
    expect(resolveConfig({ env: { OTEL_TRACES_SAMPLER: ' AlWaYs_OfF ' } }).traces.sampler).to.equal('always_off');
    expect(resolveConfig({ env: {}, traces: { sampler: ' ALWAYS_OFF ' as never } }).traces.sampler).to.equal(
      'always_off',
    );
  });

  it('the cluster mode: the variable in any case, the option exactly', () => {
    expect(resolveConfig({ env: { TUIST_TELEMETRY_CLUSTER: 'OFF' } }).cluster.mode).to.equal('off');
    expect(resolveConfig({ env: {}, cluster: { mode: 'off' } }).cluster.mode).to.equal('off');
    expect(mistake({ env: {}, cluster: { mode: 'OFF' as never } })).to.equal(
      'options.cluster.mode: unknown mode "OFF"; valid values are auto, off',
    );
  });

  it('exact settings take no other case, from the variable either (naming, OTLP protocol)', () => {
    expect(mistake({ env: { TUIST_TELEMETRY_NAMING: 'Server' } })).to.equal(
      'TUIST_TELEMETRY_NAMING: unknown naming profile "Server"; valid values are docs, server',
    );
    expect(mistake({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC' } })).to.equal(
      'OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "GRPC"; valid values are http/protobuf, http/json, grpc',
    );
  });

  it('an unknown value is quoted as it was given, whatever the comparison', () => {
    expect(mistake({ env: { OTEL_TRACES_SAMPLER: 'Always' } })).to.equal(
      'OTEL_TRACES_SAMPLER: unknown value "Always"; valid values are always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio',
    );
    expect(mistake({ env: { TUIST_TELEMETRY_CLUSTER: 'Sometimes' } })).to.equal(
      'TUIST_TELEMETRY_CLUSTER: unknown mode "Sometimes"; valid values are auto, off',
    );
  });
});

describe('core settings: which source is read', () => {
  it('an integer option set to null is a mistake, not the default', () => {
    expect(mistake({ env: {}, prometheus: { port: null as never } })).to.equal(
      'options.prometheus.port must be an integer from 0 to 65535, got null',
    );
  });

  it('another option set to null counts as not given: the variable is read', () => {
    expect(resolveConfig({ env: { TUIST_TELEMETRY_NAMING: 'server' }, naming: null as never }).naming).to.equal(
      'server',
    );
  });

  it('readQuietly gives the value, or the mistake as a message instead of throwing', () => {
    expect(readQuietly('logLevel', { OTEL_LOG_LEVEL: ' debug ' })).to.deep.equal({ value: 'debug' });
    expect(readQuietly('logLevel', {})).to.deep.equal({ value: undefined });
    expect(readQuietly('logLevel', { OTEL_LOG_LEVEL: 'de\u0000bug' })).to.deep.equal({
      problem: 'OTEL_LOG_LEVEL contains a control character (U+0000 at position 3); remove it',
    });
  });
});

describe('core settings: OTLP URLs', () => {
  it('the base OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/<signal> after its trailing slashes; the others are taken as given', () => {
    const base = resolveConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp//' } });
    expect(base.otlpUrl).to.equal('http://collector:4318/otlp/v1/metrics');
    expect(base.traces.url).to.equal('http://collector:4318/otlp/v1/traces');
    expect(resolveConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } }).otlpUrl).to.equal(
      'http://collector:4318/v1/metrics',
    );
    const own = {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/',
    };
    expect(resolveConfig({ env: own }).otlpUrl).to.equal('http://m:4318/');
    expect(resolveConfig({ env: own }).traces.url).to.equal('http://t/');
    const grpc = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317/', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    expect(resolveConfig({ env: grpc }).otlpUrl).to.equal('http://collector:4317/');
    expect(resolveConfig({ env: {} }).otlpUrl).to.equal(undefined);
  });
});

describe('core settings: resource detectors (OTEL_NODE_RESOURCE_DETECTORS)', () => {
  const detectors = (options: TelemetryOptions) => resolveConfig(options).resourceDetectors;

  it('a comma list in any case with blanks and empty entries; the option as a list; repeats count once', () => {
    expect(detectors({ env: { OTEL_NODE_RESOURCE_DETECTORS: ' Host , ,os,host,' } })).to.deep.equal(['host', 'os']);
    expect(detectors({ env: {}, resourceDetectors: ['process', 'ENV'] as never })).to.deep.equal(['process', 'env']);
    expect(detectors({ env: {} })).to.deep.equal(['env', 'serviceinstance']);
  });

  it('all wins, then none', () => {
    expect(detectors({ env: { OTEL_NODE_RESOURCE_DETECTORS: 'none' } })).to.deep.equal([]);
    expect(detectors({ env: { OTEL_NODE_RESOURCE_DETECTORS: 'host,none' } })).to.deep.equal([]);
    expect(detectors({ env: { OTEL_NODE_RESOURCE_DETECTORS: 'none,all' } })).to.deep.equal([
      'env',
      'host',
      'os',
      'process',
      'serviceinstance',
    ]);
  });
});

describe('core settings: traces exporters and sampler ratio', () => {
  it('a list naming nothing (blank entries only) starts no exporter', () => {
    expect(resolveConfig({ env: { OTEL_TRACES_EXPORTER: ' , ' } }).traces.exporters).to.deep.equal([]);
    expect(resolveConfig({ env: {} }).traces.exporters).to.deep.equal([]);
  });

  const ratio = (sampler: string, arg: string) =>
    resolveConfig({ env: { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg } }).traces.samplerArg;

  it('the ratio is read for traceidratio and parentbased_traceidratio, ignored for the other samplers', () => {
    expect(ratio('parentbased_traceidratio', '0.25')).to.equal(0.25);
    expect(ratio('traceidratio', '0.25')).to.equal(0.25);
    expect(ratio('always_on', '5')).to.equal(1);
    expect(ratio('parentbased_always_off', 'x')).to.equal(1);
    expect(resolveConfig({ env: { OTEL_TRACES_SAMPLER: 'traceidratio' } }).traces.samplerArg, 'no ratio: 1').to.equal(
      1,
    );
  });

  it('decimal notation: a sign, leading zeros, several decimals, an exponent of any length or sign', () => {
    for (const [raw, n] of [
      ['+0.5', 0.5],
      ['00.5', 0.5],
      ['.25', 0.25],
      ['1e0', 1],
      ['1E-10', 1e-10],
      ['0', 0],
      ['1', 1],
    ] as const)
      expect(ratio('traceidratio', raw), raw).to.equal(n);
  });

  it('below 0 or above 1 is refused with the value as given', () => {
    for (const raw of ['-0.5', '1.5', '-1e-1'])
      expect(mistake({ env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: raw } }), raw).to.equal(
        `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got ${JSON.stringify(raw)}`,
      );
  });
});
