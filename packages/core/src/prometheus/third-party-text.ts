import { DataPointType, type MetricData, type ResourceMetrics, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { quoteName, type EscapingScheme } from '../labels/escaping.js';
import { escapeHelp, escapeLabelValue, formatValue } from './format.js';
import { forEachCumulativeBucket, metricName } from './third-party.js';
import { pairs, scopePairs } from './third-party-protobuf.js';

/*
 * Third-party instruments and target_info in the text formats for a scraper that asked for a name escaping scheme
 * (Prometheus 3's `escaping=`). The stock serializer (third-party.ts) knows only its own sanitised names, so this
 * writer lays the metrics out as it does (HELP with "description missing" when there is none, UNIT in text 0.0.4,
 * TYPE, `_count`, `_sum`, then cumulative `_bucket` lines; target_info first) with the names of the scheme: a name
 * that is not legacy-valid (only under `allow-utf-8`) goes quoted inside the braces, `{"a.b","c.d"="v"} 1`, as
 * prometheus/common's text writer does. Under `underscores` its output is the stock serializer's for any name whose
 * sanitising does not differ (runs of `_`, a leading digit).
 */

export interface ThirdPartyTextOptions {
  escaping: EscapingScheme;
  format: 'text' | 'openmetrics';
  withScopeLabels: boolean;
  withTargetInfo: boolean;
  /** Told about a metric that could not be written: it is left out and the others are written. */
  failed: (name: string, err: unknown) => void;
}

type Pairs = [string, string][];

/** `name{labels} value\n`, or `{"name",labels} value\n` when the name must be quoted. */
function sample(name: string, labels: Pairs, value: number): string {
  let inside = '';
  for (const [k, v] of labels)
    inside += (inside === '' ? '' : ',') + quoteName(k, true) + '="' + escapeLabelValue(v) + '"';
  const quoted = quoteName(name);
  let head: string;
  if (quoted === name) head = inside === '' ? name : name + '{' + inside + '}';
  else head = '{' + quoted + (inside === '' ? '' : ',' + inside) + '}';
  return head + ' ' + formatValue(value) + '\n';
}

function typeOf(m: MetricData): string {
  if (m.dataPointType === DataPointType.HISTOGRAM) return 'histogram';
  return m.dataPointType === DataPointType.SUM && m.isMonotonic ? 'counter' : 'gauge';
}

function writeMetric(m: MetricData, extra: Pairs, opts: ThirdPartyTextOptions): string {
  const name = metricName(m, opts.escaping);
  const type = typeOf(m);
  // OpenMetrics names a counter family without `_total` (its samples keep it) and has no free-form UNIT.
  const family =
    opts.format === 'openmetrics' && type === 'counter' && name.endsWith('_total')
      ? name.slice(0, -'_total'.length)
      : name;
  const q = quoteName(family);
  let out = '# HELP ' + q + ' ' + escapeHelp(m.descriptor.description || 'description missing') + '\n';
  if (opts.format === 'text' && m.descriptor.unit) out += '# UNIT ' + q + ' ' + escapeHelp(m.descriptor.unit) + '\n';
  out += '# TYPE ' + q + ' ' + type + '\n';
  if (m.dataPointType === DataPointType.HISTOGRAM) {
    for (const dp of m.dataPoints) {
      const labels = pairs(dp.attributes, extra, true);
      const { count, sum, buckets } = dp.value;
      out += sample(name + '_count', labels, count);
      if (sum != null) out += sample(name + '_sum', labels, sum);
      forEachCumulativeBucket(buckets, (bound, cum) => {
        out += sample(name + '_bucket', [...labels, ['le', bound === Infinity ? '+Inf' : String(bound)]], cum);
      });
    }
  } else if (m.dataPointType === DataPointType.SUM || m.dataPointType === DataPointType.GAUGE) {
    for (const dp of m.dataPoints) out += sample(name, pairs(dp.attributes, extra, true), dp.value);
  }
  return out;
}

/**
 * The text of `scopeMetrics` (selected by ThirdPartyWriter.selectText and labelled by the label policy for the same
 * scheme) and, when asked for, `target_info` from `rm`'s resource. A metric that throws is left out (reported).
 */
export function writeThirdPartyText(
  rm: ResourceMetrics,
  scopeMetrics: readonly ScopeMetrics[],
  opts: ThirdPartyTextOptions,
): string {
  let text = '';
  if (opts.withTargetInfo) {
    try {
      text +=
        '# HELP target_info Target metadata\n# TYPE target_info gauge\n' +
        sample('target_info', pairs(rm.resource.attributes, [], true), 1);
    } catch (err) {
      opts.failed('target_info', err);
    }
  }
  for (const sm of scopeMetrics) {
    const extra = opts.withScopeLabels ? scopePairs(sm) : [];
    for (const m of sm.metrics) {
      try {
        text += writeMetric(m, extra, opts);
      } catch (err) {
        opts.failed(metricName(m, opts.escaping), err);
      }
    }
  }
  return opts.format === 'openmetrics' ? text + '# EOF\n' : text;
}
