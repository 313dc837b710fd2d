// The parsing primitives of the configuration (settings.ts and resolve.ts): every value read from the environment or the options goes through them.

/** A configuration mistake; thrown by `startTelemetry` with what to change. */
export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

/** The largest delay setTimeout/setInterval take. */
export const MAX_MS = 2 ** 31 - 1;

export function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Variable `name` of `env`, trimmed; undefined when unset or blank. A control character left inside (a pasted
 * newline, a NUL, an escape sequence) is a mistake no variable of core accepts: it throws naming the variable.
 */
export function envVar(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = nonEmpty(env[name]);
  if (v !== undefined && CONTROL.test(v)) {
    const at = v.search(CONTROL);
    const code = v.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
    throw new TelemetryConfigError(`${name} contains a control character (U+${code} at position ${at + 1}); remove it`);
  }
  return v;
}

/** Decimal digits only: `1e3`, `0x10`, `5x`, `5.0` are mistakes, not numbers (Number() would take some of them). */
const DECIMAL_INTEGER = /^\s*-?\d+\s*$/;

export function integer(source: string, raw: unknown, min: number, max: number): number {
  const syntax = typeof raw !== 'string' || DECIMAL_INTEGER.test(raw);
  const n = typeof raw === 'string' ? (syntax ? Number(raw) : NaN) : (raw as number);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new TelemetryConfigError(
      `${source} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}${syntax ? '' : ' (decimal digits only)'}`,
    );
  }
  return n;
}

export function bool(source: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new TelemetryConfigError(`${source} must be true or false, got ${JSON.stringify(raw)}`);
}

export function oneOf<T extends string>(valid: readonly T[], raw: string, source: string): T {
  const v = raw.trim().toLowerCase();
  if (!(valid as readonly string[]).includes(v))
    throw new TelemetryConfigError(
      `${source}: unknown value ${JSON.stringify(raw)}; valid values are ${valid.join(', ')}`,
    );
  return v as T;
}

/**
 * A comma list of exporter names (`OTEL_METRICS_EXPORTER`, `OTEL_TRACES_EXPORTER`, or the option): each must be
 * valid, a repeated one counts once, and `none` anywhere in it means no exporter at all, as OpenTelemetry's Node SDK
 * reads these variables. Undefined when the list names nothing (blank entries only): the caller's default applies.
 */
export function exporterList<T extends string>(
  valid: readonly T[],
  raw: readonly string[] | string,
  source: string,
): Exclude<T, 'none'>[] | undefined {
  const list = (typeof raw === 'string' ? raw.split(',') : [...raw])
    .map((s) => String(s).trim().toLowerCase())
    .filter(Boolean);
  for (const e of list) {
    if (!(valid as readonly string[]).includes(e)) {
      throw new TelemetryConfigError(
        `${source}: unknown exporter ${JSON.stringify(e)}; valid values are ${valid.join(', ')} (comma-separated)`,
      );
    }
  }
  if (list.length === 0) return undefined;
  if (list.includes('none')) return [];
  return [...new Set(list)] as Exclude<T, 'none'>[];
}
