import { expect } from 'chai';
import { scrape, value } from '@tuist-telemetry/testing';
import { createMetricReader, getTelemetry, startTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';
import { startApp, jsonMetrics, otlpReceiver, coreDir, fixturePath } from '../helpers/index.js';

const app = fixturePath('nodesdk-app.mjs');
// NodeSDK would otherwise push traces and logs to a collector on localhost:4318.
const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_NODE_RESOURCE_DETECTORS: 'none' };

interface Ready {
  url: string | null;
  globalIsSdk: boolean;
  instrumentations: string[];
}

describe('core: createMetricReader() in a real NodeSDK app (child process, built packages)', () => {
  it('one /metrics serves the catalog, the app instrument and instrumentation-undici, with NodeSDK the only MeterProvider', async () => {
    const p = startApp([app], {
      cwd: coreDir,
      env: { ...quiet, OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' },
    });
    try {
      const ready = JSON.parse(await p.ready) as Ready;
      expect(ready.url).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
      expect(ready.globalIsSdk, "the global MeterProvider is NodeSDK's").to.equal(true);
      const exp = await scrape(ready.url!);
      expect(value(exp, 'tuist_runs_total', { name: 'nodesdk' }), 'catalog via getTelemetry()').to.equal(1);
      expect(value(exp, 'app_orders_total', { kind: 'book' }), "the app's own counter").to.equal(3);
      const undici = [...exp.keys()].filter((k) => k.startsWith('http_client_request_duration'));
      expect(undici.length, `instrumentation-undici's histogram in:\n${[...exp.keys()].join('\n')}`).to.be.greaterThan(
        0,
      );
      expect(p.output()).to.not.match(/duplicate registration|can not be bound/i);
    } finally {
      await p.stop();
    }
  });

  it('OTEL_METRICS_EXPORTER=otlp pushes the catalog and the app instrument in one export; sdk.shutdown() flushes it', async () => {
    const rx = await otlpReceiver();
    const p = startApp([app], {
      cwd: coreDir,
      env: {
        ...quiet,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      },
    });
    try {
      const ready = JSON.parse(await p.ready) as Ready;
      expect(ready.url, 'no Prometheus endpoint when only otlp is chosen').to.equal(null);
      p.child.stdin!.write('shutdown\n');
      await p.line(/SHUTDOWN/);
      expect(rx.received.length, p.output()).to.be.greaterThan(0);
      const last = jsonMetrics(rx.received.at(-1)!.body);
      expect(last.get('tuist_runs_total')?.sum?.dataPoints[0]?.asDouble).to.equal(1);
      expect(last.has('app.orders'), [...last.keys()].join(', ')).to.equal(true);
      expect(last.has('http.client.request.duration')).to.equal(true);
    } finally {
      await p.stop();
      await rx.close();
    }
  });
});

describe('core: createMetricReader() rules', () => {
  afterEach(async () => {
    await getTelemetry()?.shutdown();
  });

  it('returns the same reader until a MeterProvider takes it, and records into getTelemetry()', async () => {
    const r = createMetricReader({ exporters: 'none', runtimeMetrics: false });
    expect(createMetricReader()).to.equal(r);
    expect(getTelemetry()?.hostReader).to.equal(r);
  });

  it('refuses when telemetry already runs with its own MeterProvider, saying what to do', () => {
    startTelemetry({ exporters: 'none', runtimeMetrics: false, setGlobalMeterProvider: false });
    expect(() => createMetricReader()).to.throw(TelemetryConfigError, /instead of those/);
  });
});
