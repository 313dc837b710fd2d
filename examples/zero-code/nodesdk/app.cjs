// The same kind of app on OpenTelemetry's NodeSDK: core's reader makes NodeSDK's MeterProvider the only one, and
// tuistInstrumentations() hands NodeSDK the Tuist instrumentations installed here, next to the stock undici one.
// One /metrics serves the catalog, the stock instrumentation's metrics and the app's own instruments.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { createMetricReader, tuistInstrumentations } = require('@tuist-telemetry/core');

const tuist = tuistInstrumentations();
const sdk = new NodeSDK({
  metricReader: createMetricReader(),
  instrumentations: [new UndiciInstrumentation(), ...tuist],
});
sdk.start();

// Libraries are loaded after sdk.start(), as NodeSDK asks.
const http = require('node:http');
const pg = require('pg');
const { metrics } = require('@opentelemetry/api');

async function main() {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  await pool.query('select 1');
  await pool.query('select 2');
  metrics.getMeter('app').createCounter('app.signups').add(2);
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/health`;
  for (let i = 0; i < 3; i++) await (await fetch(url)).text();
  console.log('READY ' + JSON.stringify({ instrumentations: tuist.map((i) => i.instrumentationName), health: url }));
  process.on('SIGTERM', async () => {
    await pool.end();
    server.close();
    await sdk.shutdown();
    process.exit(0);
  });
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
