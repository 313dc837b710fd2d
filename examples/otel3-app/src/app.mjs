// A NodeSDK app on the OpenTelemetry JS 3.x line (sdk-node 0.301, sdk-metrics 3.x, Node >= 22.15), as a user who
// starts a server today writes it: core's reader in NodeSDK's one MeterProvider, the Tuist instrumentations
// (tuistInstrumentations(): pg from @tuist-telemetry/db, undici/http from @tuist-telemetry/http) next to the stock
// instrumentation-pg and instrumentation-undici, exporters from OTEL_METRICS_EXPORTER.
// Runs on the built packages (npm run build). DATABASE_URL: a PostgreSQL to query. Prints READY <json> when it has
// recorded, and SHUTDOWN after "shutdown" on stdin (sdk.shutdown() flushes the exporters).
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { metrics } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { createMetricReader, getTelemetry, tuistInstrumentations } from '@tuist-telemetry/core';
import { runtimeVersions } from './versions.mjs';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tuist = tuistInstrumentations({ appDirectories: [appDir] });
const sdk = new NodeSDK({
  serviceName: 'otel3-app',
  // sdk-node 0.301 has `metricReaders` only (0.2xx also took `metricReader`).
  metricReaders: [createMetricReader()],
  instrumentations: [new PgInstrumentation(), new UndiciInstrumentation(), ...tuist],
});
sdk.start();

const t = getTelemetry();
if (!t) throw new Error('createMetricReader did not start telemetry');
await t.ready();
t.metrics.recordRun({ name: 'otel3', isCi: false, status: 0, durationMs: 7 });
metrics.getMeter('otel3-app').createCounter('app.orders').add(2, { kind: 'book' });

// pg through require, after sdk.start(): the instrumentations patch it as it loads (CommonJS, no loader hook needed).
const pg = createRequire(import.meta.url)('pg');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
for (let i = 0; i < 3; i++) await pool.query('SELECT $1::int AS n', [i]);

const server = http.createServer((_, res) => res.end('ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const res = await fetch(`http://127.0.0.1:${server.address().port}/orders`);
await res.text();

console.log(
  'READY ' +
    JSON.stringify({
      url: t.url ?? null,
      // Not the no-op one: NodeSDK registered its MeterProvider as the global (app instruments reach it).
      globalMeterProvider: metrics.getMeterProvider().constructor.name,
      versions: runtimeVersions(appDir),
      instrumentations: tuist.map((i) => i.instrumentationName),
    }),
);
process.stdin.on('data', async (d) => {
  if (String(d).includes('shutdown')) {
    await sdk.shutdown();
    await pool.end();
    server.close();
    console.log('SHUTDOWN');
  }
});
