/*
 * Prometheus' name escaping schemes (prometheus/common model: `EscapeName`, `EscapeMetricFamily`), for scrapers that
 * ask for one with the `escaping=` media-type parameter (Prometheus 3). `allow-utf-8`: names are served as they are
 * (the text formats quote the ones that are not legacy-valid); `underscores`: every character a legacy name cannot
 * hold becomes `_`; `dots`: `.` becomes `_dot_`, `_` becomes `__`, any other such character `__`; `values`: `U__`,
 * then `_` doubled and every other such character as `_<hex code point>_`. A name that is already legacy-valid is
 * never changed (so the catalog's documented names are the same in every scheme).
 */

export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

const SCHEMES: ReadonlySet<string> = new Set(['allow-utf-8', 'underscores', 'dots', 'values']);

/** The scheme an `escaping=` parameter value names (case-insensitive); undefined for anything else. */
export function parseEscaping(value: string | undefined): EscapingScheme | undefined {
  const v = value?.trim().toLowerCase();
  return v !== undefined && SCHEMES.has(v) ? (v as EscapingScheme) : undefined;
}

const LEGACY_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a valid metric name for a Prometheus without UTF-8 support: `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC.test(name);
}

/** Whether `name` is a valid label name for a Prometheus without UTF-8 support: `[a-zA-Z_][a-zA-Z0-9_]*`. */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL.test(name);
}

/** A code point a legacy name can hold at position `i` (`:` only in metric names). */
function legacyRune(c: number, i: number, colon: boolean): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    (colon && c === 0x3a) ||
    (c >= 0x30 && c <= 0x39 && i > 0)
  );
}

/**
 * `name` escaped by `scheme` as prometheus/common's `EscapeName` does (its rules and examples are pinned by the
 * tests), whether or not `name` is legacy-valid. `label`: the escaping of a label name, where `:` is escaped too (a
 * legacy label name cannot hold it; prometheus/common applies the metric-name rule to labels and would leave it).
 * A lone surrogate is an invalid code point: `_` (underscores), `__` (dots), `_FFFD_` (values).
 */
export function escapeName(name: string, scheme: EscapingScheme, label = false): string {
  if (name === '' || scheme === 'allow-utf-8') return name;
  const valid = label ? isLegacyLabelName : isLegacyMetricName;
  if ((scheme === 'underscores' || scheme === 'values') && valid(name)) return name;
  let out = scheme === 'values' ? 'U__' : '';
  let i = 0;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c === 0x5f) out += scheme === 'underscores' ? '_' : '__';
    else if (scheme === 'dots' && c === 0x2e) out += '_dot_';
    else if (legacyRune(c, i, !label)) out += ch;
    else if (scheme === 'underscores') out += '_';
    else if (scheme === 'dots') out += '__';
    else if (c >= 0xd800 && c <= 0xdfff) out += '_FFFD_';
    else out += '_' + c.toString(16) + '_';
    i += ch.length;
  }
  return out;
}

/**
 * The name a metric (or, with `label`, a label) is exposed under for a scraper that asked for `scheme`: unchanged
 * when it is legacy-valid or the scheme is `allow-utf-8` (as prometheus/common's `EscapeMetricFamily`), else
 * `escapeName`.
 */
export function exposedName(name: string, scheme: EscapingScheme, label = false): string {
  if (scheme === 'allow-utf-8' || (label ? isLegacyLabelName(name) : isLegacyMetricName(name))) return name;
  return escapeName(name, scheme, label);
}

/**
 * `name` as the text formats write a metric or (with `label`) label name: as it is when legacy-valid, else in double
 * quotes with `\`, `"` and line feed escaped (prometheus/common's `writeName`, which also quotes a label name with a
 * `:`; Prometheus 3 parses it, 2.x does not).
 */
export function quoteName(name: string, label = false): string {
  if (label ? isLegacyLabelName(name) : isLegacyMetricName(name)) return name;
  return '"' + name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') + '"';
}
