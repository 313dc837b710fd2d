/**
 * `node --import @tuist-telemetry/core/register app.js` (or `--require`, for `NODE_OPTIONS` preloads): zero code.
 * - starts telemetry from the environment alone;
 * - enables every Tuist instrumentation installed in the app (`pg`, `undici`, `aws-sdk`, `http`; see
 *   `tuistInstrumentations`), selected by `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS`,
 *   with import-in-the-middle's loader hook so ES module apps are patched as CommonJS ones are;
 * - with traces on (`OTEL_TRACES_EXPORTER`), also enables OpenTelemetry's own http, undici and pg instrumentations
 *   when the app has them installed, so its requests and queries produce spans;
 * - reports through core's default diag logger (stderr) at `OTEL_LOG_LEVEL` (default warn) unless the app sets its own;
 * - never stops the app: a configuration mistake is one error line, and the part it concerns stays off (traces, a
 *   push exporter next to `prometheus`, else telemetry as a whole) while the app runs (see register-start.ts);
 * - shuts down on SIGTERM/SIGINT, flushing push exporters. The host's own signal handling is left alone: when the
 *   host has listeners of its own they decide what happens next; when it has none (signal-exit's listeners do not
 *   count: they only act when alone), the signal's default action (exit) is restored and the signal raised again
 *   once telemetry has shut down (or after a 5 s bound).
 *
 * No top-level await on the way (a `--require` of an ES module graph with one fails): everything here is synchronous.
 */
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { installDefaultDiagLogger, logger } from './diag/index.js';
import { findInstrumentations } from './instrumentations/index.js';
import { enableWithLoaderHook, inInternalThread } from './instrumentations/hook.js';
import { startFromEnvironment } from './telemetry/from-environment.js';
import type { Telemetry } from './telemetry/telemetry.js';

// Node's loader thread runs `--require` preloads too: nothing to do there (see inInternalThread).
const inLoaderThread = inInternalThread();

// Core's default diag logger (stderr, OTEL_LOG_LEVEL, once per kind; see diag.ts), unless the app has its own.
if (!inLoaderThread) installDefaultDiagLogger(process.env);

const log = logger('core/register');
const telemetry: Telemetry | undefined = inLoaderThread ? undefined : startFromEnvironment(log);

let instrumentations: Instrumentation[] = [];
if (telemetry) {
  telemetry.ready().catch(() => {
    /* already reported through diag; the host keeps running */
  });
  try {
    instrumentations = enableWithLoaderHook(
      findInstrumentations({ stock: telemetry.config.traces.exporters.length > 0 }),
    );
  } catch (err) {
    log.error('the instrumentations could not be enabled; the app runs uninstrumented', err);
  }

  const SHUTDOWN_BOUND_MS = 5000;
  const onSignal = (signal: NodeJS.Signals): void => {
    const hostHandles = process.listenerCount(signal) - 1 - signalExitListeners() > 0;
    const done = telemetry.shutdown().catch((err) => log.error('shutdown failed', err));
    if (hostHandles) return;
    const bound = new Promise((r) => setTimeout(r, SHUTDOWN_BOUND_MS).unref());
    void Promise.race([done, bound]).then(() => {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
}

/**
 * The signal listeners of signal-exit (v4, and v3 beside it), which execa, write-file-atomic, proper-lockfile and
 * others load: they are not the host handling the signal. Each ends the process only when it sees no listener but
 * its own copies (ours included, it would wait forever: the app never exits), so ours re-raises the signal for them.
 */
function signalExitListeners(): number {
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[Symbol.for('signal-exit emitter')];
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__;
  let n = 0;
  for (const c of [v4?.count, v3?.count]) if (typeof c === 'number' && c > 0) n += c;
  return n;
}

/** The running telemetry; undefined when a configuration mistake kept it off (the error line says which). */
export { telemetry, instrumentations };
