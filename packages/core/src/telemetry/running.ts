// The running telemetry instances and the one `getTelemetry()` answers (instances are opaque here).
/** Where a telemetry's Prometheus endpoint stands: `none` (no endpoint: push exporters or the host's reader). */
export type EndpointState = 'none' | 'pending' | 'listening' | 'failed';

/**
 * The running instances (started, not shut down) in start order, and the one `getTelemetry()` answers, recomputed
 * whenever one starts, its endpoint listens or fails, or it shuts down (getTelemetry() runs on every request of
 * the instrumentations, so it only reads a variable). The answer is the most recently started instance that serves
 * (its endpoint listens, or it has none); failing that, the most recent one whose endpoint is still starting;
 * failing that, the most recent running one (its endpoint could not listen, but it still records, and its push
 * exporters still export). So a second `startTelemetry()` whose port is busy never takes over from one that
 * serves, and shutting an instance down hands over to the previous running one.
 */
const running = new Map<object, EndpointState>();
let current: object | undefined;

function electCurrent(): void {
  let pending: object | undefined;
  let failed: object | undefined;
  const all = [...running];
  for (let i = all.length - 1; i >= 0; i--) {
    const [t, state] = all[i]!;
    if (state === 'listening' || state === 'none') {
      current = t;
      return;
    }
    if (state === 'pending') pending ??= t;
    else failed ??= t;
  }
  current = pending ?? failed;
}

export function setRunning(t: object, state: EndpointState | undefined): void {
  if (state === undefined) running.delete(t);
  else if (running.has(t) || state === 'pending' || state === 'none') running.set(t, state);
  electCurrent();
}

/** Whether `t` is running (started, not shut down). */
export function isRunning(t: object): boolean {
  return running.has(t);
}

/** The instance `getTelemetry()` answers (see above), or undefined. */
export function currentInstance(): object | undefined {
  return current;
}
