/** Prometheus text format 0.0.4 and OpenMetrics 1.0 helpers (pure functions). */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export const PROTOBUF_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** The formats `/metrics` serves. */
export type ExpositionFormat = 'text' | 'openmetrics' | 'protobuf';

/** A media range of an `Accept` header: type and subtype lowercased, parameter names lowercased, values unquoted. */
export interface MediaRange {
  type: string;
  params: Map<string, string>;
  /** The weight (`q`), 0 to 1; 1 when absent. */
  q: number;
}

/** RFC 9110 qvalue: `0`, `0.` and up to three digits, `1`, or `1.` and up to three zeros. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The weight a qvalue (the text after `q=`) gives, 0 to 1; undefined when it is not a qvalue (`2`, `0.5x`, `abc`). */
export function qvalue(raw: string): number | undefined {
  return QVALUE.test(raw) ? Number(raw) : undefined;
}

/** Splits on `sep` outside double-quoted strings (a quoted parameter value may hold `,` or `;`). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * The media ranges of an `Accept` header as RFC 9110 (section 12.5.1) reads them: types, subtypes and parameter
 * names are case-insensitive (lowercased here), whitespace around `,` and `;` is optional, a parameter value may be
 * a quoted string, and the weight is `q` (any case) with a qvalue of at most three decimals from 0 to 1. A range
 * with a malformed weight is left out; a parameter without `=` or without a name is ignored.
 */
export function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const range of splitOutsideQuotes(accept, ',')) {
    const [rawType = '', ...rawParams] = splitOutsideQuotes(range, ';');
    const type = rawType.trim().toLowerCase();
    const params = new Map<string, string>();
    let q = 1;
    let valid = true;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq <= 0) continue; // not a parameter (no name): ignored
      const name = p.slice(0, eq).trim().toLowerCase();
      let value = p.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      if (name === 'q') {
        const w = qvalue(value);
        if (w === undefined) valid = false;
        else q = w;
      } else {
        params.set(name, value);
      }
    }
    if (valid) ranges.push({ type, params, q });
  }
  return ranges;
}

/**
 * The format for an `Accept` header: OpenMetrics 1.0 when the client asks for `application/openmetrics-text`
 * (version 1.0.0 or unversioned) at least as much as for the text format; text 0.0.4 for anything else, including
 * formats this endpoint does not serve. Media types are matched case-insensitively (RFC 9110).
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  // Fast path for the common cases (no header, text only); the media type may be in any case.
  if (!accept || !/openmetrics/i.test(accept)) return 'text';
  let om = 0;
  let text = 0;
  for (const r of parseAccept(accept)) {
    if (r.type === 'application/openmetrics-text') {
      const version = r.params.get('version');
      if ((version === undefined || version === '1.0.0') && r.q > om) om = r.q;
    } else if (r.type === 'text/plain' && r.q > text) {
      text = r.q;
    }
  }
  if (om === 0) return 'text';
  return om >= text ? 'openmetrics' : 'text';
}

/**
 * The format for an `Accept` header, protobuf included: length-delimited `io.prometheus.client.MetricFamily` messages
 * when the client asks for them (`application/vnd.google.protobuf` with `proto=io.prometheus.client.MetricFamily` and
 * `encoding=delimited`) at least as much as for the text format `negotiateFormat` picks; else that one.
 */
export function negotiateExposition(accept: string | undefined): ExpositionFormat {
  const text = negotiateFormat(accept);
  if (!accept || !/protobuf/i.test(accept)) return text;
  const textType = text === 'openmetrics' ? 'application/openmetrics-text' : 'text/plain';
  let pb = 0;
  let other = 0;
  for (const r of parseAccept(accept)) {
    if (r.type === 'application/vnd.google.protobuf') {
      const delimitedFamilies =
        r.params.get('proto')?.toLowerCase() === 'io.prometheus.client.metricfamily' &&
        r.params.get('encoding')?.toLowerCase() === 'delimited';
      if (delimitedFamilies && r.q > pb) pb = r.q;
    } else if (r.type === textType && r.q > other) {
      other = r.q;
    }
  }
  if (pb === 0) return text;
  return pb >= other ? 'protobuf' : text;
}

/**
 * HELP and TYPE of a family. In OpenMetrics a counter's family name has no `_total` (its samples keep it), and a
 * sample of an OpenMetrics counter must end in `_total`. The catalog's counters documented without `_total`
 * (`tuist_cache_uploaded_bytes`, `tuist_storage_*_count`) are therefore served with HELP and no TYPE line, which
 * OpenMetrics reads as type `unknown`: their sample names, which are what PromQL sees, stay the same in both formats.
 * (An explicit `# TYPE … unknown` would say the same to Prometheus, but `promtool check metrics` rejects it.)
 */
export function familyHeader(name: string, type: string, description: string, format: ExpositionFormat): string {
  let family = name;
  if (format === 'openmetrics' && type === 'counter') {
    if (!name.endsWith('_total')) return '# HELP ' + name + ' ' + escapeHelp(description) + '\n';
    family = name.slice(0, -'_total'.length);
  }
  return '# HELP ' + family + ' ' + escapeHelp(description) + '\n# TYPE ' + family + ' ' + type + '\n';
}

/**
 * The stock serializer's text 0.0.4 (third-party metrics) as OpenMetrics: counter families lose `_total` in HELP and
 * TYPE (it always adds it to their samples), and `# UNIT` lines go (OpenMetrics wants the unit as the name's suffix,
 * which OpenTelemetry names do not follow).
 */
export function textToOpenMetrics(text: string): string {
  if (text === '') return text;
  const counters = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) counter$/gm)) if (m[1]!.endsWith('_total')) counters.add(m[1]!);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# UNIT ')) continue;
    const m = /^# (HELP|TYPE) (\S+)( .*)?$/.exec(line);
    if (m && counters.has(m[2]!)) out.push(`# ${m[1]} ${m[2]!.slice(0, -'_total'.length)}${m[3] ?? ''}`);
    else out.push(line);
  }
  return out.join('\n');
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  // Fast path: most values need no escaping.
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A number as the exposition format writes it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `a="x",b="y"` for the given names and values, skipping empty values (an empty label is no label). */
export function labelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const v = values[i]!;
    if (v === '') continue;
    if (out !== '') out += ',';
    out += names[i] + '="' + escapeLabelValue(v) + '"';
  }
  return out;
}
