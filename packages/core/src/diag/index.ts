import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { inspect } from 'node:util';
import { LOG_LEVELS, type LogLevelName } from '../settings/lists.js';
import { readQuietly } from '../settings/table.js';

/** The component logger every package of the SDK reports through (OTel's `diag`, never `console`). */
export function logger(component: string): DiagLogger {
  return diag.createComponentLogger({ namespace: `@tuist-telemetry/${component}` });
}

const WINDOW_MS = 60_000;

/**
 * The per-kind window behind both `RateLimitedLogger` and the default `StderrDiagLogger`: `admit(kind)` lets one
 * message of a kind through per minute and returns how many of that kind it held back meanwhile, or undefined when
 * it holds this one back. With `maxKinds`, the memory of kinds is forgotten once it holds that many.
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
 * Rate-limited warnings and errors: at most one `diag.warn` (or `diag.error`) per kind per minute, so a caller
 * that sends NaN on every request cannot flood the logs. The next warning of that kind says how many were suppressed meanwhile.
 */
export class RateLimitedLogger {
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

const LEVELS: Readonly<Record<LogLevelName, DiagLogLevel>> = {
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

/** The registered diag logger (OTel's wrapper around it), or undefined. */
const registeredDiag = (): unknown =>
  (globalThis as unknown as Record<symbol, { diag?: unknown } | undefined>)[OTEL_API_GLOBAL]?.diag;

/** Whether a diag logger is registered (by the host, by NodeSDK, or by an earlier `installDefaultDiagLogger`). */
export function diagLoggerInstalled(): boolean {
  return registeredDiag() !== undefined;
}

/**
 * How long the default logger holds what it would print after it is installed: a host sets its own logger in its
 * first lines, which run only after `--import …/register` (or its `startTelemetry()` call) and after its modules
 * load; what failed meanwhile (a busy port, an export) then goes to the host's logger, not to stderr.
 */
export const DEFAULT_LOGGER_HOLD_MS = 2000;
/** At most this many messages are held; later ones in the hold are dropped. */
const MAX_HELD = 100;

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
  private held: { level: 'error' | 'warn' | 'info' | 'debug' | 'verbose'; args: unknown[] }[] | undefined;
  private registered: unknown;
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly releaseNow = (): void => this.release();

  error(...args: unknown[]): void {
    this.write('error', args, true);
  }
  warn(...args: unknown[]): void {
    // setLogger tells the logger it replaces; the host taking over from this default is expected, not news.
    if (typeof args[0] === 'string' && args[0].startsWith('Current logger will be overwritten')) {
      // The host's logger is registered right after this call: what this one held goes to it.
      if (this.held) queueMicrotask(this.releaseNow);
      return;
    }
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

  /**
   * Holds what this logger (registered just now) would print for `ms`, until the host replaces it, or until the
   * process exits, whichever comes first; see `DEFAULT_LOGGER_HOLD_MS`.
   */
  hold(ms: number): void {
    this.held = [];
    this.registered = registeredDiag();
    this.holdTimer = setTimeout(this.releaseNow, ms).unref();
    process.once('exit', this.releaseNow);
  }

  /**
   * Ends the hold: the held messages are printed when this logger is still the registered one, or passed, in
   * order, to the logger that replaced it (through `diag`, at that logger's level).
   */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(this.holdTimer);
    process.removeListener('exit', this.releaseNow);
    const replaced = registeredDiag() !== this.registered;
    for (const { level, args } of held) {
      if (replaced) diag[level](...(args as [string, ...unknown[]]));
      else this.write(level, args, level === 'error' || level === 'warn');
    }
  }

  private write(level: 'error' | 'warn' | 'info' | 'debug' | 'verbose', args: unknown[], dedupe: boolean): void {
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push({ level, args });
      return;
    }
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

let heldDefault: StderrDiagLogger | undefined;

/** Prints (or hands to the host's logger) what the default logger still holds: at shutdown, before a signal ends the process. */
export function releaseDefaultDiagLogger(): void {
  heldDefault?.release();
  heldDefault = undefined;
}

/**
 * When no diag logger is registered, installs `StderrDiagLogger` at the level of `OTEL_LOG_LEVEL` (none, error,
 * warn, info, debug, verbose, all; default warn), so start-up failures (a busy port) and export failures (a refused
 * OTLP endpoint) are visible by default; `OTEL_LOG_LEVEL=none` installs nothing. A logger the host registers, before
 * or after, wins: what the default would print in its first `DEFAULT_LOGGER_HOLD_MS` goes to a logger the host
 * registers meanwhile (its first lines run only after register and its imports), not to stderr.
 */
export function installDefaultDiagLogger(env: Readonly<Record<string, string | undefined>>): void {
  if (diagLoggerInstalled()) return;
  // A control character is warned below, never thrown from a preload.
  const { value, problem } = readQuietly('logLevel', env);
  const raw = value?.toLowerCase();
  const level = raw !== undefined && Object.hasOwn(LEVELS, raw) ? LEVELS[raw as LogLevelName] : undefined;
  if (level === DiagLogLevel.NONE) return;
  const stderr = new StderrDiagLogger();
  diag.setLogger(stderr, { logLevel: level ?? DiagLogLevel.WARN, suppressOverrideMessage: true });
  stderr.hold(DEFAULT_LOGGER_HOLD_MS);
  heldDefault = stderr;
  if (problem !== undefined || (raw !== undefined && level === undefined)) {
    diag.warn(
      `@tuist-telemetry/core: ${problem ?? `OTEL_LOG_LEVEL=${JSON.stringify(raw)} is not a level`} (${LOG_LEVELS.join(', ')}); using warn`,
    );
  }
}
