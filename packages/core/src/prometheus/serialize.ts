import { DataPointType, type ResourceMetrics, type MetricData } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import { CounterFamily, GaugeFamily, HistogramFamily, type MetricStore } from '../store.js';
import { escapeHelp, escapeLabelValue, formatValue, labelText, sanitizeLabelName, sanitizeMetricName } from './format.js';

export interface SerializeOptions {
  /** Extra label text put on every sample (`otel_scope_name="…",…`), opt-in. */
  scopeLabels?: string;
}

function withExtra(text: string, extra: string | undefined): string {
  if (!extra) return text;
  return text === '' ? extra : text + ',' + extra;
}

/**
 * Serialises core's store. Label text is built once per series and kept; histogram lines reuse precomputed
 * `le` strings. One string is built by appending (V8 ropes), no intermediate arrays per series.
 */
export function serializeStore(store: MetricStore, opts: SerializeOptions = {}): string {
  let out = '';
  const extra = opts.scopeLabels;
  for (const f of store.families) {
    const name = f.name;
    out += '# HELP ' + name + ' ' + escapeHelp(f.def.description) + '\n# TYPE ' + name + ' ' + f.def.type + '\n';
    if (f instanceof HistogramFamily) {
      const les = f.buckets.map((b) => 'le="' + formatValue(b) + '"');
      const nb = les.length;
      for (const s of f.series) {
        let lt = s.labelText;
        if (lt === undefined) lt = s.labelText = withExtra(labelText(f.labelNames, s.labelValues), extra);
        const prefix = lt === '' ? name + '_bucket{' : name + '_bucket{' + lt + ',';
        let cum = 0;
        const counts = s.counts;
        for (let i = 0; i < nb; i++) {
          cum += counts[i]!;
          out += prefix + les[i] + '} ' + cum + '\n';
        }
        const braces = lt === '' ? '' : '{' + lt + '}';
        out += prefix + 'le="+Inf"} ' + s.count + '\n' + name + '_sum' + braces + ' ' + formatValue(s.sum) + '\n' + name + '_count' + braces + ' ' + s.count + '\n';
      }
    } else if (f instanceof CounterFamily || f instanceof GaugeFamily) {
      for (const s of f.series) {
        let lt = s.labelText;
        if (lt === undefined) lt = s.labelText = withExtra(labelText(f.labelNames, s.labelValues), extra);
        out += (lt === '' ? name : name + '{' + lt + '}') + ' ' + formatValue(s.value) + '\n';
      }
    }
  }
  return out;
}

function attributesText(attrs: Attributes, extra: string | undefined): string {
  let out = '';
  for (const k of Object.keys(attrs)) {
    const v = attrs[k];
    if (v === undefined || v === null) continue;
    const sv = Array.isArray(v) ? JSON.stringify(v) : String(v);
    if (out !== '') out += ',';
    out += sanitizeLabelName(k) + '="' + escapeLabelValue(sv) + '"';
  }
  return withExtra(out, extra);
}

function braces(text: string): string {
  return text === '' ? '' : '{' + text + '}';
}

/**
 * Serialises what sdk-metrics collected from third-party instruments on the same MeterProvider, named the way the
 * stock exporter names them (dots to underscores, `_total` on monotonic sums), so they can sit next to the catalog.
 * Names that collide with the catalog (or appear twice) are skipped and reported through `skipped`.
 */
export function serializeResourceMetrics(
  rm: ResourceMetrics,
  reserved: ReadonlySet<string>,
  opts: { withScopeLabels?: boolean; skipped?: (name: string) => void } = {},
): string {
  let out = '';
  const seen = new Set<string>();
  for (const sm of rm.scopeMetrics) {
    const scope = opts.withScopeLabels
      ? 'otel_scope_name="' + escapeLabelValue(sm.scope.name) + '"' + (sm.scope.version ? ',otel_scope_version="' + escapeLabelValue(sm.scope.version) + '"' : '')
      : undefined;
    for (const m of sm.metrics) {
      out += serializeMetric(m, scope, reserved, seen, opts.skipped);
    }
  }
  return out;
}

function serializeMetric(
  m: MetricData,
  scope: string | undefined,
  reserved: ReadonlySet<string>,
  seen: Set<string>,
  skipped: ((name: string) => void) | undefined,
): string {
  let name = sanitizeMetricName(m.descriptor.name);
  let type: string;
  if (m.dataPointType === DataPointType.SUM) {
    if (m.isMonotonic) {
      type = 'counter';
      if (!name.endsWith('_total')) name += '_total';
    } else type = 'gauge';
  } else if (m.dataPointType === DataPointType.GAUGE) type = 'gauge';
  else if (m.dataPointType === DataPointType.HISTOGRAM) type = 'histogram';
  else {
    skipped?.(name);
    return '';
  }
  if (reserved.has(name) || seen.has(name)) {
    skipped?.(name);
    return '';
  }
  seen.add(name);
  let out = '';
  if (m.descriptor.description) out += '# HELP ' + name + ' ' + escapeHelp(m.descriptor.description) + '\n';
  out += '# TYPE ' + name + ' ' + type + '\n';
  if (m.dataPointType === DataPointType.HISTOGRAM) {
    for (const dp of m.dataPoints) {
      const lt = attributesText(dp.attributes, scope);
      const prefix = name + '_bucket{' + (lt === '' ? '' : lt + ',');
      const { boundaries, counts } = dp.value.buckets;
      let cum = 0;
      for (let i = 0; i < boundaries.length; i++) {
        cum += counts[i] ?? 0;
        out += prefix + 'le="' + formatValue(boundaries[i]!) + '"} ' + cum + '\n';
      }
      out += prefix + 'le="+Inf"} ' + dp.value.count + '\n';
      out += name + '_sum' + braces(lt) + ' ' + formatValue(dp.value.sum ?? 0) + '\n';
      out += name + '_count' + braces(lt) + ' ' + dp.value.count + '\n';
    }
  } else {
    for (const dp of m.dataPoints) {
      out += name + braces(attributesText(dp.attributes, scope)) + ' ' + formatValue(dp.value as number) + '\n';
    }
  }
  return out;
}

/** `target_info` from the resource, opt-in. */
export function serializeTargetInfo(attrs: Attributes): string {
  return '# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info' + braces(attributesText(attrs, undefined)) + ' 1\n';
}
