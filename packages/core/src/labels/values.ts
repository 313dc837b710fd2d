import type { RateLimitedLogger } from '../diag/index.js';

/**
 * Label values as the exposition and OTLP carry them: strings of at most MAX_LABEL_VALUE_LENGTH UTF-16 units that
 * are well-formed UTF-16. Every value the store keeps goes through here, so two inputs that would be the same bytes
 * on the wire (`'a\uD800'` and `'a\uFFFD'`: an unpaired surrogate is encoded as U+FFFD) are one key, one series.
 */

/** The value a bounded label takes once it has seen its cap of distinct values. */
export const OVERFLOW_VALUE = '__overflow__';
/** Label values longer than this are truncated (S3 keys are at most 1024 bytes). */
export const MAX_LABEL_VALUE_LENGTH = 1024;

/** What callers may pass as a label value; anything else is normalised (see `normaliseLabelValue`). */
export type LabelValue = string | number | boolean | bigint | null | undefined;

// ES2024 string methods (Node >= 20); the project's lib is ES2022.
type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

/** Whether `raw` is stored as it is: a well-formed string within the length limit. */
export function isStoredAsIs(raw: unknown): raw is string {
  return typeof raw === 'string' && raw.length <= MAX_LABEL_VALUE_LENGTH && (raw as WellFormed).isWellFormed();
}

/** Why a value is not stored as it is, for the warning; undefined when it is (or is an accepted number/boolean). */
export type LabelValueProblem = 'too-long' | 'ill-formed' | 'missing' | 'invalid';

/**
 * The stored form of any label value, never throwing: strings truncated to the limit (without splitting a surrogate
 * pair) and made well-formed; numbers, booleans and bigints as their decimal text; a missing value is `''` for an
 * optional label and `'unknown'` otherwise; anything else (objects, symbols, functions) `'invalid'`.
 */
export function normaliseLabelValue(raw: unknown, optional: boolean): string {
  if (typeof raw === 'string') return (truncateLabelValue(raw) as WellFormed).toWellFormed();
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  if (raw === undefined || raw === null) return optional ? '' : 'unknown';
  return 'invalid';
}

/** `s` cut to MAX_LABEL_VALUE_LENGTH UTF-16 units, never between the two halves of a surrogate pair. */
export function truncateLabelValue(s: string): string {
  if (s.length <= MAX_LABEL_VALUE_LENGTH) return s;
  // Do not leave the high half of a pair at the end: it would become U+FFFD when made well-formed.
  const cut = MAX_LABEL_VALUE_LENGTH;
  const c = s.charCodeAt(cut - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? cut - 1 : cut);
}

/** Which warning `normaliseLabelValue` deserves (undefined: a silent, expected conversion). */
export function labelValueProblem(raw: unknown, optional: boolean): LabelValueProblem | undefined {
  if (typeof raw === 'string')
    return raw.length > MAX_LABEL_VALUE_LENGTH
      ? 'too-long'
      : (raw as WellFormed).isWellFormed()
        ? undefined
        : 'ill-formed';
  if (raw === undefined || raw === null) return optional ? undefined : 'missing';
  if (typeof raw === 'object' || typeof raw === 'function' || typeof raw === 'symbol') return 'invalid';
  return undefined;
}

/** `normaliseLabelValue`, warning (once per kind, through `warn`) when the value was not stored as it came. */
export function normaliseReported(
  raw: unknown,
  optional: boolean,
  metric: string,
  label: string,
  warn: RateLimitedLogger,
): string {
  switch (labelValueProblem(raw, optional)) {
    case 'too-long':
      warn.warn(
        'label-too-long',
        `${metric}: a value of label "${label}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters; it was truncated`,
      );
      break;
    case 'ill-formed':
      warn.warn(
        'label-ill-formed',
        `${metric}: a value of label "${label}" has an unpaired UTF-16 surrogate; it was replaced by U+FFFD, as the exposition encodes it`,
      );
      break;
    case 'missing':
      warn.warn(`label-missing:${metric}:${label}`, `${metric}: label "${label}" is missing; recorded as "unknown"`);
      break;
    case 'invalid':
      warn.warn(
        `label-invalid:${metric}:${label}`,
        `${metric}: label "${label}" got a ${typeof raw}; label values must be strings, numbers or booleans (recorded as "invalid")`,
      );
      break;
    default:
  }
  return normaliseLabelValue(raw, optional);
}

/**
 * The text of an OpenTelemetry attribute value as a label carries it, never throwing: strings as they are, numbers
 * and booleans as `String` spells them, arrays as JSON (as exporter-prometheus writes them); anything a caller slipped
 * past the API's types (an object whose `toJSON` or `toString` throws) is `invalid`.
 */
export function attributeText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    const s: unknown = JSON.stringify(v);
    return typeof s === 'string' ? s : 'invalid';
  } catch {
    return 'invalid';
  }
}
