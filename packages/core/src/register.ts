/**
 * `node --import @tuist-telemetry/core/register app.js`: starts telemetry from the environment alone and shuts it
 * down on SIGTERM/SIGINT, flushing push exporters. The host's own signal handling is left alone: when the host has
 * listeners of its own they decide what happens next; when it has none, the signal's default action (exit) is
 * restored and the signal raised again once telemetry has shut down (or after a 5 s bound).
 */
import { logger } from './diag.js';
import { startTelemetry } from './telemetry.js';

const log = logger('register');
const telemetry = startTelemetry();
telemetry.ready().catch(() => {
  /* already reported through diag; the host keeps running */
});

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

export { telemetry };
