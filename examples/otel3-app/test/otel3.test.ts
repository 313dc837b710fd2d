import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { scrape, startPostgres, value, type Postgres } from '@tuist-telemetry/testing';

// OpenTelemetry JS 3.x needs Node >= 22.15; `npm test` runs this suite on its Node 22 and 24 lines only.
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const otel3Node = major > 22 || (major === 22 && minor >= 15);

const appDir = fileURLToPath(new URL('..', import.meta.url));
const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_NODE_RESOURCE_DETECTORS: 'none' };

interface Ready {
  url: string | null;
  globalMeterProvider: string;
  instrumentations: string[];
  versions: Record<string, string>;
}

interface App {
  ready: Promise<Ready>;
  line(re: RegExp): Promise<void>;
  send(text: string): void;
  output(): string;
  stop(): Promise<void>;
}

function startApp(env: Record<string, string>): App {
  const child = spawn(process.execPath, ['src/app.mjs'], {
    cwd: appDir,
    env: { ...process.env, ...quiet, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const line = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(out)) resolve();
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      check();
      void exited.then(() => setTimeout(() => reject(new Error(`app exited before printing ${re}:\n${out}`)), 50));
    });
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const ready = line(/READY .*\n/).then(() => JSON.parse(/READY (.*)\n/.exec(out)![1]!) as Ready);
  ready.catch(() => {});
  return {
    ready,
    line,
    send: (text) => child.stdin.write(text),
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A local stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver (JSON): answers 200, keeps every body. */
async function otlpReceiver(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface OtlpMetric {
  name: string;
  sum?: {
    dataPoints: {
      asDouble?: number;
      asInt?: string | number;
      attributes?: { key: string; value: { stringValue?: string } }[];
    }[];
  };
  histogram?: { dataPoints: { count: string | number }[] };
}

function otlpMetrics(body: string): Map<string, OtlpMetric> {
  const doc = JSON.parse(body) as { resourceMetrics: { scopeMetrics: { metrics: OtlpMetric[] }[] }[] };
  const out = new Map<string, OtlpMetric>();
  for (const rm of doc.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

const histogramCount = (m: OtlpMetric | undefined): number =>
  (m?.histogram?.dataPoints ?? []).reduce((n, p) => n + Number(p.count), 0);

describe('examples: a NodeSDK app on OpenTelemetry JS 3.x (sdk-node 0.301, sdk-metrics 3.x) with core, Tuist and stock instrumentations', function () {
  let db: Postgres;

  before(async function () {
    if (!otel3Node) {
      console.warn(
        `  SKIPPED: OpenTelemetry JS 3.x needs Node >= 22.15, this is ${process.versions.node} (npm test runs it on Node 22 and 24)`,
      );
      this.skip();
    }
    db = await startPostgres({ from: import.meta.url });
  });

  after(async () => {
    await db?.stop();
  });

  it('really runs the 3.x line: NodeSDK on sdk-metrics 3.x, instrumentation-pg 0.77, instrumentation-undici 0.34', async () => {
    const app = startApp({ DATABASE_URL: db.url, OTEL_METRICS_EXPORTER: 'none' });
    try {
      const { versions, instrumentations, globalMeterProvider } = await app.ready;
      expect(versions.sdkNode, app.output()).to.match(/^0\.30\d\./);
      expect(versions.sdkMetricsOfSdkNode, 'the sdk-metrics NodeSDK builds its MeterProvider from').to.match(/^3\./);
      expect(versions.sdkMetricsOfApp, 'the app resolves the same sdk-metrics as NodeSDK (one 3.x copy)').to.equal(
        versions.sdkMetricsOfSdkNode,
      );
      expect(versions.api).to.match(/^1\.10\./);
      // Core may resolve a second API copy (1.9 here, for its 2.x SDK); NodeSDK's MeterProvider must still be the
      // global one, so the app's own instruments are not no-ops.
      expect(versions.apiOfCore).to.match(/^1\.(9|10)\./);
      expect(globalMeterProvider).to.not.equal('NoopMeterProvider');
      expect(versions.instrumentationPg).to.match(/^0\.77\./);
      expect(versions.instrumentationOfPg).to.match(/^0\.30\d\./);
      expect(versions.instrumentationUndici).to.match(/^0\.34\./);
      expect(instrumentations).to.include.members(['@tuist-telemetry/db']);
      expect(app.output(), 'a supported combination starts without a warning').to.not.match(/unsupported combination/);
    } finally {
      await app.stop();
    }
  });

  it('OTEL_METRICS_EXPORTER=otlp pushes the catalog, the Tuist and the stock instrumentations and the app instrument; sdk.shutdown() flushes', async () => {
    const rx = await otlpReceiver();
    const app = startApp({
      DATABASE_URL: db.url,
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    try {
      const ready = await app.ready;
      expect(ready.url, 'no Prometheus endpoint when only otlp is chosen').to.equal(null);
      app.send('shutdown\n');
      await app.line(/SHUTDOWN/);
      expect(rx.bodies.length, app.output()).to.be.greaterThan(0);
      const last = otlpMetrics(rx.bodies.at(-1)!);
      const names = [...last.keys()].join(', ');
      expect(last.get('tuist_runs_total')?.sum?.dataPoints[0]?.asDouble, names).to.equal(1);
      expect(last.has('app.orders'), names).to.equal(true);
      // Tuist's pg instrumentation: three queries through the app's pool.
      expect(histogramCount(last.get('tuist_repo_query_total_time_milliseconds')), names).to.equal(3);
      // The stock ones, in the same MeterProvider.
      expect(histogramCount(last.get('db.client.operation.duration')), names).to.be.greaterThanOrEqual(3);
      expect(histogramCount(last.get('http.client.request.duration')), names).to.be.greaterThanOrEqual(1);
      expect(app.output()).to.not.match(/duplicate registration|can not be bound|Error/i);
    } finally {
      await app.stop();
      await rx.close();
    }
  });

  it('startTelemetry() here (its own MeterProvider under an older API copy) says once that the app should use NodeSDK', () => {
    const r = spawnSync(process.execPath, ['test/fixtures/start-telemetry.mjs'], {
      cwd: appDir,
      env: { ...process.env, ...quiet },
      encoding: 'utf8',
    });
    expect(r.stdout, r.stderr).to.contain('DONE');
    const said = r.stderr.split('\n').filter((l) => l.includes('TUIST_TELEMETRY_UNSUPPORTED'));
    expect(said, r.stderr).to.have.length(1);
    expect(said[0]).to.match(
      /unsupported combination: .*use new NodeSDK\(\{ metricReaders: \[createMetricReader\(\)\] \}\) instead of startTelemetry\(\)/,
    );
  });

  it('OTEL_METRICS_EXPORTER=prometheus serves the same on one /metrics', async () => {
    const app = startApp({
      DATABASE_URL: db.url,
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    });
    try {
      const ready = await app.ready;
      expect(ready.url).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
      const exp = await scrape(ready.url!);
      expect(value(exp, 'tuist_runs_total', { name: 'otel3' })).to.equal(1);
      expect(value(exp, 'app_orders_total', { kind: 'book' })).to.equal(2);
      const keys = [...exp.keys()];
      expect(
        keys.some((k) => k === 'tuist_repo_query_total_time_milliseconds'),
        keys.join('\n'),
      ).to.equal(true);
      expect(
        keys.some((k) => k.startsWith('db_client_operation_duration')),
        keys.join('\n'),
      ).to.equal(true);
      expect(
        keys.some((k) => k.startsWith('http_client_request_duration')),
        keys.join('\n'),
      ).to.equal(true);
    } finally {
      await app.stop();
    }
  });
});
