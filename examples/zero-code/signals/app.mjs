// An app that knows nothing of telemetry, for the SIGTERM tests (test/signals*.test.ts): an HTTP server and, with
// SERIES set, that many series of its own (OpenTelemetry API counters, 1,000 series each) so a scrape is large.
// ON_SIGTERM says what the app does on SIGTERM: `default` (no listener: the signal's default action ends it),
// `drain` (closes its server and lets the event loop empty: exit code 0), `exit` (process.exit(3)), `stay` (logs it and keeps serving).
import http from 'node:http';
import { metrics } from '@opentelemetry/api';

const series = Number(process.env.SERIES ?? 0);
const meter = metrics.getMeter('signals-app');
for (let c = 0; c * 1000 < series; c++) {
  const counter = meter.createCounter(`signals_app_things_${c}_total`, { description: 'things the app counted' });
  for (let i = 0; i < 1000 && c * 1000 + i < series; i++) counter.add(i + 1, { thing: `thing-${i}` });
}
const server = http.createServer((_req, res) => res.end('ok'));
const mode = process.env.ON_SIGTERM ?? 'default';
if (mode === 'drain') process.on('SIGTERM', () => server.close());
if (mode === 'exit') process.on('SIGTERM', () => process.exit(3));
if (mode === 'stay') process.on('SIGTERM', () => console.log('SIGTERM: staying up'));
server.listen(0, '127.0.0.1', () => {
  console.log(`READY ${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}`);
});
