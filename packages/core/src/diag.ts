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

/**
 * A short description of any value for a warning message that never throws: `String()` on caller input can (a
 * Symbol in a template, an object whose `toString` throws, a Proxy), and a warning must not become the exception
 * it reports.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'string':
      return JSON.stringify(value.length > 64 ? value.slice(0, 64) + '…' : value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return value === null ? 'null' : 'an object';
  }
}

/** The message of a caught error for a warning, never throwing (see `describe`). */
export function describeError(err: unknown): string {
  try {
    if (err instanceof Error) {
      const m: unknown = err.message;
      return typeof m === 'string' ? m : describe(m);
    }
  } catch {
    // A Proxy or an object with a throwing getter: fall through.
  }
  return describe(err);
}
