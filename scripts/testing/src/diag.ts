/**
 * Tests that provoke warnings capture and assert them instead of printing them into a green run's log (issue 24
 * item 9): `captureDiag(diag)` registers a diag logger that keeps every warning and error as a line, and `restore()`
 * puts back whatever logger was registered before (core's default one, another capture, or none).
 *
 * Pass your own `diag` import (`import { diag } from '@opentelemetry/api'`): this package depends on nothing.
 */
type Log = (message: string, ...args: unknown[]) => void;

/** The part of OpenTelemetry's `diag` the capture uses. */
export interface DiagLike {
  setLogger(
    logger: { error: Log; warn: Log; info: Log; debug: Log; verbose: Log },
    options: { logLevel: number; suppressOverrideMessage?: boolean },
  ): boolean;
  disable(): void;
}

export interface DiagCapture {
  /** Every warning and error so far, in order, as `warn: <text>` or `error: <text>`. */
  readonly lines: string[];
  /** The lines matching `re`. */
  matching(re: RegExp): string[];
  /** Registers the logger that was registered before the capture again (none: diag is disabled). Idempotent. */
  restore(): void;
}

/** Where @opentelemetry/api 1.x keeps its globals (`diag` is the registered logger). */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const WARN = 50; // DiagLogLevel.WARN

function text(message: string, args: unknown[]): string {
  const one = (a: unknown): string => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return `${a.name}: ${a.message}`;
    try {
      return JSON.stringify(a) ?? String(a);
    } catch {
      return String(a);
    }
  };
  return [message, ...args.map(one)].join(' ');
}

export function captureDiag(diag: DiagLike): DiagCapture {
  const api = (globalThis as unknown as Record<symbol, { diag?: unknown } | undefined>)[API_GLOBAL];
  const previous = api?.diag;
  const lines: string[] = [];
  const keep =
    (level: string): Log =>
    (message, ...args) =>
      void lines.push(`${level}: ${text(String(message), args)}`);
  diag.setLogger(
    { error: keep('error'), warn: keep('warn'), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: WARN, suppressOverrideMessage: true },
  );
  let restored = false;
  return {
    lines,
    matching: (re) => lines.filter((l) => re.test(l)),
    restore() {
      if (restored) return;
      restored = true;
      const now = (globalThis as unknown as Record<symbol, { diag?: unknown } | undefined>)[API_GLOBAL];
      if (previous !== undefined && now) now.diag = previous;
      else diag.disable();
    },
  };
}
