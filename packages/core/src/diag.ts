import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { inspect } from 'node:util';

/** The component logger every package of the SDK reports through (OTel's `diag`, never `console`). */
export function logger(component: string): DiagLogger {
  return diag.createComponentLogger({ namespace: `@tuist-telemetry/${component}` });
}

const WINDOW_MS = 60_000;

/**
 * The per-kind window behind both `WarnOnce` and the default `StderrDiagLogger`: `admit(kind)` lets one message of a
 * kind through per minute and returns how many of that kind it held back meanwhile, or undefined when it holds this
 * one back. With `maxKinds`, the memory of kinds is forgotten once it holds that many.
 */
class PerKindWindow {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly maxKinds = Infinity) {}

  admit(kind: string): number | undefined {
    const now = Date.now();
    const entry = this.last.get(kind);
    if (entry && now - entry.at < WINDOW_MS) {
      entry.suppressed++;
      return undefined;
    }
    if (this.last.size >= this.maxKinds) this.last.clear();
    this.last.set(kind, { at: now, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}

/**
 * Rate-limited warnings: at most one `diag.warn` per kind per minute, so a caller that sends NaN on every request
 * cannot flood the logs. The next warning of that kind says how many were suppressed meanwhile.
 */
export class WarnOnce {
  private readonly window = new PerKindWindow();
  constructor(private readonly log: DiagLogger) {}

  warn(kind: string, message: string): void {
    const suppressed = this.window.admit(kind);
    if (suppressed === undefined) return;
    this.log.warn(message + (suppressed > 0 ? ` (${suppressed} similar warnings suppressed)` : ''));
  }

  error(kind: string, message: string, err?: unknown): void {
    if (this.window.admit(kind) === undefined) return;
    if (err === undefined) this.log.error(message);
    else this.log.error(message, err);
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

const LEVELS: Readonly<Record<string, DiagLogLevel>> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** Where @opentelemetry/api 1.x keeps its globals; `diag` is set there once any diag logger is registered. */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** Whether a diag logger is registered (by the host, by NodeSDK, or by an earlier `installDefaultDiagLogger`). */
export function diagLoggerInstalled(): boolean {
  const api = (globalThis as unknown as Record<symbol, { diag?: unknown } | undefined>)[OTEL_API_GLOBAL];
  return api?.diag !== undefined;
}

function formatArg(a: unknown): string {
  if (typeof a === 'string') return a;
  try {
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    return inspect(a, { depth: 2, breakLength: Infinity });
  } catch {
    return describe(a);
  }
}

/**
 * The diag logger core installs when the host has none: one line per message on stderr, warnings and errors at
 * most once per kind (the same text, numbers aside) per minute, so an exporter that fails every 60 s or a scrape
 * that fails on every request is seen without flooding the log. Info and below pass through as they come.
 */
export class StderrDiagLogger implements DiagLogger {
  private readonly window = new PerKindWindow(1000);

  error(...args: unknown[]): void {
    this.write('error', args, true);
  }
  warn(...args: unknown[]): void {
    // setLogger tells the logger it replaces; the host taking over from this default is expected, not news.
    if (typeof args[0] === 'string' && args[0].startsWith('Current logger will be overwritten')) return;
    this.write('warn', args, true);
  }
  info(...args: unknown[]): void {
    this.write('info', args, false);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args, false);
  }
  verbose(...args: unknown[]): void {
    this.write('verbose', args, false);
  }

  private write(level: string, args: unknown[], dedupe: boolean): void {
    try {
      let text = args.map(formatArg).join(' ');
      if (dedupe) {
        const suppressed = this.window.admit(level + ':' + text.replace(/[0-9]+/g, '#').slice(0, 200));
        if (suppressed === undefined) return;
        if (suppressed > 0) text += ` (${suppressed} similar suppressed)`;
      }
      process.stderr.write(`${level}: ${text}\n`);
    } catch {
      // A logger must never throw into whoever logged.
    }
  }
}

/**
 * When no diag logger is registered, installs `StderrDiagLogger` at the level of `OTEL_LOG_LEVEL` (none, error,
 * warn, info, debug, verbose, all; default warn), so start-up failures (a busy port) and export failures (a refused
 * OTLP endpoint) are visible by default; `OTEL_LOG_LEVEL=none` installs nothing. A logger the host registers, before
 * or after, wins.
 */
export function installDefaultDiagLogger(env: Readonly<Record<string, string | undefined>>): void {
  if (diagLoggerInstalled()) return;
  const raw = env.OTEL_LOG_LEVEL?.trim().toLowerCase();
  const level = raw ? LEVELS[raw] : undefined;
  if (level === DiagLogLevel.NONE) return;
  diag.setLogger(new StderrDiagLogger(), { logLevel: level ?? DiagLogLevel.WARN, suppressOverrideMessage: true });
  if (raw && level === undefined) {
    diag.warn(`@tuist-telemetry/core: OTEL_LOG_LEVEL=${JSON.stringify(raw)} is not a level (none, error, warn, info, debug, verbose, all); using warn`);
  }
}
