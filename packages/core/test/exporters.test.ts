import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import net from 'node:net';
import { freePort, scrape, value } from '@tuist-telemetry/testing';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import { OTLP_EXPORTER_PACKAGES, otlpExporter } from '../src/otel/exporters.js';
import { otlpReceiver } from './helpers/otlp.js';

interface OtlpJsonMetric {
  name: string;
  sum?: {
    dataPoints: { asDouble?: number; attributes?: { key: string; value: { stringValue?: string } }[] }[];
    isMonotonic?: boolean;
  };
  histogram?: { dataPoints: { explicitBounds: number[]; count: string | number }[] };
}
function jsonMetrics(body: Buffer): Map<string, OtlpJsonMetric> {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceMetrics: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeMetrics: { metrics: OtlpJsonMetric[] }[];
    }[];
  };
  const out = new Map<string, OtlpJsonMetric>();
  for (const rm of doc.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

/**
 * A minimal protobuf wire-format reader (written for this test: varints and length-delimited fields are all the
 * OTLP path to a metric name needs): the values of field `n` of a message.
 */
function fields(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (key >>> 3 === n) out.push(buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Metric names of an ExportMetricsServiceRequest: resource_metrics(1) > scope_metrics(2) > metrics(2) > name(1). */
function protobufMetricNames(body: Buffer): string[] {
  return fields(body, 1).flatMap((rm) =>
    fields(rm, 2).flatMap((sm) => fields(sm, 2).map((m) => fields(m, 1)[0]!.toString('utf8'))),
  );
}

function record(t: Telemetry): void {
  t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 1234 });
  t.metrics.recordCacheUpload(4096);
  t.store
    .histogram('tuist_http_request_duration_nanosecond')
    .record(3e6, { response_status: '200', request_method: 'GET', request_host: 'example.com' });
}

describe('core: exporters chosen by OTEL_METRICS_EXPORTER', () => {
  it('otlp over http/json carries the documented names, buckets and resource to a local receiver', async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      exportIntervalMs: 200,
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_SERVICE_NAME: 'json-test',
      },
    });
    try {
      record(t);
      const got = await rx.next();
      expect(got.path).to.equal('/v1/metrics');
      expect(got.contentType).to.contain('application/json');
      const m = jsonMetrics(got.body);
      expect(m.has('tuist_cache_uploaded_bytes')).to.equal(true);
      expect(m.has('tuist_cache_uploaded_bytes_total')).to.equal(false);
      expect(m.get('tuist_cache_uploaded_bytes')!.sum!.dataPoints[0]!.asDouble).to.equal(4096);
      expect(m.get('tuist_runs_duration_milliseconds')!.histogram!.dataPoints[0]!.explicitBounds).to.deep.equal([
        100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400, 204800, 409600, 819200, 1638400,
      ]);
      expect(m.has('tuist_http_request_duration_nanosecond')).to.equal(true);
      const doc = JSON.parse(got.body.toString()) as {
        resourceMetrics: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[];
      };
      expect(
        doc.resourceMetrics[0]!.resource.attributes.find((a) => a.key === 'service.name')!.value.stringValue,
      ).to.equal('json-test');
      expect(t.url, 'no Prometheus endpoint when only otlp is chosen').to.equal(undefined);
    } finally {
      await t.shutdown();
      await rx.close();
    }
  });

  it('otlp over http/protobuf (the default protocol) sends protobuf with the documented names, and flushes on shutdown', async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      exportIntervalMs: 600_000,
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/custom/path` },
    });
    record(t);
    await t.shutdown();
    await rx.close();
    expect(rx.received.length, 'shutdown flushed one export').to.be.greaterThan(0);
    const got = rx.received[0]!;
    expect(got.path).to.equal('/custom/path');
    expect(got.contentType).to.equal('application/x-protobuf');
    const names = protobufMetricNames(got.body);
    for (const name of [
      'tuist_runs_total',
      'tuist_runs_duration_milliseconds',
      'tuist_cache_uploaded_bytes',
      'tuist_http_request_duration_nanosecond',
    ]) {
      expect(names, name).to.include(name);
    }
    expect(names).to.not.include('tuist_cache_uploaded_bytes_total');
    expect(new Set(names).size, 'each metric once').to.equal(names.length);
  });

  it('console prints the catalog through the console exporter', async () => {
    const printed: unknown[] = [];
    const original = console.dir;
    console.dir = (obj: unknown) => void printed.push(obj);
    try {
      const t = startTelemetry({ runtimeMetrics: false, exportIntervalMs: 600_000, exporters: 'console' });
      record(t);
      await t.shutdown();
    } finally {
      console.dir = original;
    }
    const names = printed.map((p) => (p as { descriptor?: { name: string } }).descriptor?.name);
    expect(names).to.include('tuist_runs_total');
    expect(names).to.include('tuist_cache_uploaded_bytes');
  });

  it('none starts no endpoint and nothing listens', async () => {
    const port = await freePort();
    const t = startTelemetry({
      runtimeMetrics: false,
      env: {
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      },
    });
    try {
      await t.ready();
      expect(t.url).to.equal(undefined);
      expect(t.config.exporters).to.deep.equal([]);
      record(t); // recording still works
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('connect', () => (s.destroy(), resolve(false)));
        s.on('error', () => resolve(true));
      });
      expect(refused).to.equal(true);
    } finally {
      await t.shutdown();
    }
  });

  it('a comma list runs every exporter named: prometheus and otlp together', async () => {
    const rx = await otlpReceiver();
    const t = startTelemetry({
      runtimeMetrics: false,
      exportIntervalMs: 200,
      prometheus: { port: 0, host: '127.0.0.1' },
      env: {
        OTEL_METRICS_EXPORTER: ' prometheus , otlp ',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      },
    });
    try {
      await t.ready();
      record(t);
      const got = await rx.next();
      expect(jsonMetrics(got.body).has('tuist_runs_total')).to.equal(true);
      const exp = await scrape(t.url!);
      expect(value(exp, 'tuist_cache_uploaded_bytes')).to.equal(4096);
    } finally {
      await t.shutdown();
      await rx.close();
    }
  });

  it('none anywhere in OTEL_METRICS_EXPORTER means no exporter (as OpenTelemetry reads it); a blank list means the default', () => {
    const exporters = (raw: string) => {
      const t = startTelemetry({
        runtimeMetrics: false,
        prometheus: { port: 0, host: '127.0.0.1' },
        env: { OTEL_METRICS_EXPORTER: raw },
      });
      void t.shutdown();
      return t.config.exporters;
    };
    expect(exporters('prometheus,none')).to.deep.equal([]);
    expect(exporters('none , otlp')).to.deep.equal([]);
    expect(exporters('prometheus,prometheus')).to.deep.equal(['prometheus']);
    expect(exporters(' , ')).to.deep.equal(['prometheus']);
  });

  it('otlp over grpc loads its exporter and shuts down cleanly when no collector answers, saying so in one line', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const push = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    try {
      const t = startTelemetry({
        runtimeMetrics: false,
        exportIntervalMs: 600_000,
        env: {
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_METRIC_EXPORT_TIMEOUT: '2000',
        },
      });
      expect(t.config.otlpProtocol).to.equal('grpc');
      record(t);
      await t.shutdown();
    } finally {
      diag.disable();
    }
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain(
      `OTLP metrics export to http://127.0.0.1:${port} failed: connection refused (ECONNREFUSED)`,
    );
  });

  it('unset means prometheus only (as the Tuist server does)', () => {
    const t = startTelemetry({ runtimeMetrics: false, prometheus: { port: 0, host: '127.0.0.1' }, env: {} });
    expect(t.config.exporters).to.deep.equal(['prometheus']);
    return t.shutdown();
  });

  describe('OTLP exporters are optional peers: a missing one is a start-up error naming the package', () => {
    // A real require() rooted in an empty folder, where no exporter package can be found (as in an app that installed core alone).
    const bareRequire = createRequire(path.join(os.tmpdir(), 'tuist-telemetry-no-exporters', 'app.js'));
    for (const protocol of ['grpc', 'http/json', 'http/protobuf'] as const) {
      it(`protocol ${protocol}`, () => {
        const pkg = OTLP_EXPORTER_PACKAGES[protocol];
        let caught: unknown;
        try {
          otlpExporter(protocol, undefined, bareRequire);
        } catch (err) {
          caught = err;
        }
        expect(caught).to.be.instanceOf(TelemetryConfigError);
        expect((caught as Error).message).to.contain(
          `OTEL_METRICS_EXPORTER=otlp with protocol ${protocol} needs ${pkg}: npm install ${pkg}@`,
        );
      });
    }

    it('an error from inside an installed exporter is rethrown unchanged', () => {
      const inner = bareRequire.bind(null, 'some-dependency-of-the-exporter');
      let thrown: unknown;
      try {
        inner();
      } catch (err) {
        thrown = err;
      }
      let caught: unknown;
      try {
        otlpExporter('grpc', undefined, () => {
          throw thrown;
        });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.equal(thrown);
    });

    it('installed (as in this workspace), each protocol loads only its own package', () => {
      for (const protocol of ['grpc', 'http/json', 'http/protobuf'] as const) {
        const loaded: string[] = [];
        const exporter = otlpExporter(
          protocol,
          protocol === 'grpc' ? 'http://127.0.0.1:1' : 'http://127.0.0.1:1/v1/metrics',
          (pkg) => (loaded.push(pkg), createRequire(import.meta.url)(pkg)),
        );
        expect(loaded).to.deep.equal([OTLP_EXPORTER_PACKAGES[protocol]]);
        void exporter.shutdown();
      }
    });
  });
});
