/** Prometheus text format 0.0.4 and OpenMetrics 1.0 helpers (pure functions). */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** The formats `/metrics` serves. */
export type ExpositionFormat = 'text' | 'openmetrics' | 'protobuf';

/** The q of the media ranges in `accept` that `matches`; 0 when none. */
function quality(accept: string, matches: (type: string, params: string[]) => boolean): number {
  let best = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((x) => x.trim().toLowerCase());
    if (!matches(type, params)) continue;
    const q = params.find((x) => x.startsWith('q='));
    const v = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(v) && v > best) best = v;
  }
  return best;
}

/**
 * The format for an `Accept` header: OpenMetrics 1.0 when the client asks for `application/openmetrics-text`
 * (version 1.0.0 or unversioned) at least as much as for the text format; text 0.0.4 for anything else, including
 * formats this endpoint does not serve.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept || !accept.includes('openmetrics')) return 'text';
  const om = quality(accept, (t, p) => t === 'application/openmetrics-text' && p.every((x) => !x.startsWith('version=') || x === 'version=1.0.0'));
  if (om === 0) return 'text';
  const text = quality(accept, (t) => t === 'text/plain');
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
  const pb = quality(accept, (t, p) => t === 'application/vnd.google.protobuf' && p.includes('proto=io.prometheus.client.metricfamily') && p.includes('encoding=delimited'));
  if (pb === 0) return text;
  const other = quality(accept, (t) => (text === 'openmetrics' ? t === 'application/openmetrics-text' : t === 'text/plain'));
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
