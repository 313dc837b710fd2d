// An app that knows nothing of telemetry, for the SIGTERM tests (test/signal-suite.ts): an HTTP server (node:http, or
// with SERVER=native the runtime's own: Bun.serve, Deno.serve) and, with SERIES set, that many series of its own
// (OpenTelemetry API counters, 1,000 series each) so a scrape is large.
// ON_SIGTERM says what the app does on SIGTERM: `default` (no listener: the signal's default action ends it),
// `drain` (closes its server and lets the event loop empty: exit code 0), `exit` (process.exit(3)), `stay` (logs it
// and keeps serving), `signal-exit` (no listener of its own, but signal-exit's onExit, which many libraries load:
// it prints `CLEANUP <signal>` and lets the signal end the process).
import { writeSync } from 'node:fs';
import http from 'node:http';
import { metrics } from '@opentelemetry/api';
import { onExit } from 'signal-exit';

const series = Number(process.env.SERIES ?? 0);
const meter = metrics.getMeter('signals-app');
for (let c = 0; c * 1000 < series; c++) {
  const counter = meter.createCounter(`signals_app_things_${c}_total`, { description: 'things the app counted' });
  for (let i = 0; i < 1000 && c * 1000 + i < series; i++) counter.add(i + 1, { thing: `thing-${i}` });
}

/** Starts the server; resolves with its URL and how to close it. */
async function serve() {
  if (process.env.SERVER === 'native' && globalThis.Bun) {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('ok') });
    return { url: `http://127.0.0.1:${server.port}`, close: () => server.stop() };
  }
  if (process.env.SERVER === 'native' && globalThis.Deno) {
    const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, () => new Response('ok'));
    return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
  }
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const { url, close } = await serve();
const mode = process.env.ON_SIGTERM ?? 'default';
if (mode === 'drain') process.on('SIGTERM', () => close());
if (mode === 'exit') process.on('SIGTERM', () => process.exit(3));
// Written synchronously: the signal ends the process right after this handler, and a console.log to a pipe can still
// be in the runtime's buffer then (seen once on Bun in a full run: the line was missing).
if (mode === 'signal-exit') onExit((_code, signal) => void writeSync(1, `CLEANUP ${signal}\n`));
if (mode === 'stay') process.on('SIGTERM', () => console.log('SIGTERM: staying up'));
console.log(`READY ${JSON.stringify({ url })}`);
