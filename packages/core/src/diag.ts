import { diag, type DiagLogger } from '@opentelemetry/api';

/** The component logger every package of the SDK reports through (OTel's `diag`, never `console`). */
export function logger(component: string): DiagLogger {
  return diag.createComponentLogger({ namespace: `@tuist-telemetry/${component}` });
}

const WINDOW_MS = 60_000;

/**
 * Rate-limited warnings: at most one `diag.warn` per kind per minute, so a caller that sends NaN on every request
 * cannot flood the logs. The next warning of that kind says how many were suppressed meanwhile.
 */
export class WarnOnce {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly log: DiagLogger) {}

  warn(kind: string, message: string): void {
    const now = Date.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < WINDOW_MS) {
      entry.suppressed++;
      return;
    }
    const extra = entry && entry.suppressed > 0 ? ` (${entry.suppressed} similar warnings suppressed)` : '';
    this.last.set(kind, { at: now, suppressed: 0 });
    this.log.warn(message + extra);
  }

  error(kind: string, message: string, err?: unknown): void {
    const now = Date.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < WINDOW_MS) {
      entry.suppressed++;
      return;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    this.log.error(message, err);
  }
}
