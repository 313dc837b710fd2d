/**
 * `node --import @tuist-telemetry/core/register app.js`: zero code.
 * - starts telemetry from the environment alone;
 * - enables every Tuist instrumentation installed in the app (`pg`, `undici`, `aws-sdk`, `http`; see
 *   `tuistInstrumentations`), selected by `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS`,
 *   with import-in-the-middle's loader hook so ES module apps are patched as CommonJS ones are;
 * - with traces on (`OTEL_TRACES_EXPORTER`), also enables OpenTelemetry's own http, undici and pg instrumentations
 *   when the app has them installed, so its requests and queries produce spans;
 * - reports through core's default diag logger (stderr) at `OTEL_LOG_LEVEL` (default warn) unless the app sets its own;
 * - shuts down on SIGTERM/SIGINT, flushing push exporters. The host's own signal handling is left alone: when the
 *   host has listeners of its own they decide what happens next; when it has none, the signal's default action
 *   (exit) is restored and the signal raised again once telemetry has shut down (or after a 5 s bound).
 */
import { installDefaultDiagLogger, logger } from './diag.js';
import { findInstrumentations } from './instrumentations/index.js';
import { enableWithLoaderHook } from './instrumentations/hook.js';
import { startTelemetry } from './telemetry.js';

// Core's default diag logger (stderr, OTEL_LOG_LEVEL, once per kind; see diag.ts), unless the app has its own.
installDefaultDiagLogger(process.env);

const log = logger('register');
const telemetry = startTelemetry();
telemetry.ready().catch(() => {
  /* already reported through diag; the host keeps running */
});

let instrumentations: Awaited<ReturnType<typeof enableWithLoaderHook>> = [];
try {
  instrumentations = await enableWithLoaderHook(findInstrumentations({ stock: telemetry.config.traces.exporters.length > 0 }));
} catch (err) {
  log.error('the instrumentations could not be enabled; the app runs uninstrumented', err);
}

const SHUTDOWN_BOUND_MS = 5000;

function onSignal(signal: NodeJS.Signals): void {
  const hostHandles = process.listenerCount(signal) > 1;
  const done = telemetry.shutdown().catch((err) => log.error('shutdown failed', err));
  if (hostHandles) return;
  const bound = new Promise((r) => setTimeout(r, SHUTDOWN_BOUND_MS).unref());
  void Promise.race([done, bound]).then(() => {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);

export { telemetry, instrumentations };
