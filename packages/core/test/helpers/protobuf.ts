import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** What Prometheus 2.42 with `--enable-feature=native-histograms` sends (protobuf first). */
export const PROMETHEUS_PROTOBUF_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
export const PROTOBUF_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** A published schema copied into test/fixtures (prometheus-metrics.proto, otlp-metrics.proto), loaded. */
export function fixtureProto(file: string): protobuf.Root {
  return protobuf.loadSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', file));
}

const MetricFamily = fixtureProto('prometheus-metrics.proto').lookupType('io.prometheus.client.MetricFamily');

export interface PbLabel {
  name: string;
  value: string;
}
export interface PbTimestamp {
  seconds?: number;
  nanos?: number;
}
/** Milliseconds since the epoch of a decoded Timestamp. */
export function timestampMs(t: PbTimestamp | undefined): number | undefined {
  return t === undefined ? undefined : (t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}
export interface PbExemplar {
  label: PbLabel[];
  value: number;
  timestamp?: { seconds?: number; nanos?: number };
}
export interface PbBucket {
  cumulativeCount?: number;
  upperBound?: number;
  exemplar?: PbExemplar;
}
export interface PbSpan {
  offset?: number;
  length?: number;
}
export interface PbHistogram {
  sampleCount?: number;
  sampleSum?: number;
  bucket?: PbBucket[];
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  positiveSpan?: PbSpan[];
  positiveDelta?: number[];
  negativeSpan?: PbSpan[];
  negativeDelta?: number[];
  exemplars?: PbExemplar[];
  createdTimestamp?: PbTimestamp;
}
export interface PbMetric {
  label?: PbLabel[];
  gauge?: { value?: number };
  counter?: { value?: number; createdTimestamp?: PbTimestamp };
  untyped?: { value?: number };
  histogram?: PbHistogram;
}
export interface PbFamily {
  name: string;
  help?: string;
  type?: string;
  metric?: PbMetric[];
}

/** Decodes a length-delimited stream of MetricFamily messages with protobufjs and the published schema. */
export function decodeFamilies(body: Uint8Array): PbFamily[] {
  const reader = protobuf.Reader.create(body);
  const out: PbFamily[] = [];
  while (reader.pos < reader.len) {
    const msg = MetricFamily.decodeDelimited(reader);
    out.push(MetricFamily.toObject(msg, { longs: Number, enums: String, defaults: false }) as PbFamily);
  }
  return out;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `name{a="x",b="y"}` with the labels sorted: one key per series, whichever format it came from. */
function seriesKey(name: string, labels: readonly (readonly [string, string])[]): string {
  const sorted = labels.filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return name + '{' + sorted.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',') + '}';
}

/**
 * The samples Prometheus stores from protobuf families (classic histograms as `_bucket{le}`, `_sum`, `_count`, with
 * a `+Inf` bucket from the count when none is given), by series key.
 */
export function protobufSamples(families: readonly PbFamily[]): Map<string, number> {
  const out = new Map<string, number>();
  const put = (key: string, v: number) => {
    if (out.has(key)) throw new Error(`duplicate series ${key}`);
    out.set(key, v);
  };
  for (const f of families) {
    for (const m of f.metric ?? []) {
      const labels = (m.label ?? []).map((l) => [l.name, l.value] as const);
      if (f.type === 'HISTOGRAM') {
        const h = m.histogram!;
        let inf = false;
        for (const b of h.bucket ?? []) {
          if (b.upperBound === Infinity) inf = true;
          put(
            seriesKey(f.name + '_bucket', [...labels, ['le', formatValue(b.upperBound ?? 0)]]),
            b.cumulativeCount ?? 0,
          );
        }
        if (!inf) put(seriesKey(f.name + '_bucket', [...labels, ['le', '+Inf']]), h.sampleCount ?? 0);
        put(seriesKey(f.name + '_sum', labels), h.sampleSum ?? 0);
        put(seriesKey(f.name + '_count', labels), h.sampleCount ?? 0);
      } else {
        const v = f.type === 'COUNTER' ? m.counter?.value : f.type === 'GAUGE' ? m.gauge?.value : m.untyped?.value;
        put(seriesKey(f.name, labels), v ?? 0);
      }
    }
  }
  return out;
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** The samples of a text 0.0.4 exposition by series key, and its HELP and TYPE per family. */
export function textSamples(body: string): {
  samples: Map<string, number>;
  help: Map<string, string>;
  type: Map<string, string>;
} {
  const samples = new Map<string, number>();
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of body.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(
        m[1]!,
        m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)),
      );
      continue;
    }
    m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) {
      type.set(m[1]!, m[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsed line ${JSON.stringify(line)}`);
    const labels: [string, string][] = [];
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels.push([l[1]!, unescapeLabel(l[2]!)]);
    const raw = m[3]!;
    const v = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    const key = seriesKey(m[1]!, labels);
    if (samples.has(key)) throw new Error(`duplicate series ${key}`);
    samples.set(key, v);
  }
  return { samples, help, type };
}
