import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { exposedName, type EscapingScheme } from './escaping.js';
import { MAX_LABEL_VALUE_LENGTH, attributeText, truncateLabelValue } from './values.js';

/**
 * The label policy for third-party instruments (anything created on `telemetry.meterProvider`): their attributes
 * become Prometheus labels, and an attribute key OpenTelemetry allows can make the whole exposition unparsable
 * (`''`, `a.b` next to `a_b`, `le` on a histogram, `__name__`). `fixResourceMetrics` rewrites a collected
 * ResourceMetrics so that every attribute key is already a valid, unique, unreserved Prometheus label name and every
 * value a well-formed string of at most MAX_LABEL_VALUE_LENGTH characters (truncated as catalog values are): any
 * serializer (core's, or exporter-prometheus' PrometheusSerializer, which sanitises names the same way) then writes
 * each label once and never empty. Renames are reported, once per metric and kind.
 *
 * Renaming is per metric and per collection: the keys of all data points of a metric are mapped together (keys that
 * are valid keep their names; the others are sanitised, and get `exported_` when reserved and `_2`, `_3`, ... when
 * taken), so two different attribute sets never become the same series through a rename. Data points that still end
 * up with the same labels (`{a: 1}` and `{a: '1'}` are two OpenTelemetry streams but one Prometheus series) keep the
 * first and drop the others.
 */

/** What was changed, for the warning: the metric name and a short description. */
export type FixReport = (
  metric: string,
  kind: 'dropped-key' | 'renamed-key' | 'duplicate-series',
  detail: string,
) => void;

export interface FixOptions {
  /** Label names the serializer adds to every sample (`otel_scope_name`, ... when scope labels are on). */
  reservedLabels?: readonly string[];
  report?: FixReport;
  /**
   * The scraper's name escaping (labels/escaping.ts); undefined: none asked for, keys become label names as
   * exporter-prometheus sanitises them. `allow-utf-8` keeps every non-empty key (ill-formed UTF-16 made well-formed);
   * the others escape a key that is not a legacy label name by their rule. In every scheme a key beginning with `__`
   * (reserved by Prometheus) loses the extra leading underscores.
   */
  escaping?: EscapingScheme;
}

const VALID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A label name the writers keep as it is. Without escaping: valid, and no `__` (exporter-prometheus collapses it;
 * `__` is reserved); with a scheme, a key that scheme leaves unchanged and that does not begin with `__`.
 */
function isCanonical(key: string, escaping: EscapingScheme | undefined): boolean {
  if (escaping === undefined) return VALID.test(key) && !key.includes('__');
  if (key.startsWith('__')) return false;
  return escaping === 'allow-utf-8' ? key !== '' && (key as WellFormed).isWellFormed() : VALID.test(key);
}

/** The label name of a key that is not canonical (see `isCanonical`). */
function labelKey(key: string, escaping: EscapingScheme | undefined): string {
  if (escaping === undefined) return sanitizeLabelKey(key);
  const out = escaping === 'allow-utf-8' ? (key as WellFormed).toWellFormed() : exposedName(key, escaping, true);
  return out.startsWith('__') ? out.replace(/^_+/, '_') : out;
}

/** The Prometheus label name of an attribute key (as exporter-prometheus sanitises, plus a leading digit fixed). */
export function sanitizeLabelKey(key: string): string {
  let out = key.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
  if (/^[0-9]/.test(out)) out = '_' + out;
  return out;
}

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

/** The label value an attribute value is written as, truncated as catalog values are (undefined: no label). */
function labelValue(v: AttributeValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = attributeText(v);
  return s === '' ? undefined : (truncateLabelValue(s) as WellFormed).toWellFormed();
}

function needsFix(attrs: Attributes, reserved: ReadonlySet<string>, escaping: EscapingScheme | undefined): boolean {
  for (const k in attrs) {
    if (!isCanonical(k, escaping) || reserved.has(k)) return true;
    const v = attrs[k];
    if (typeof v !== 'string' || v === '' || v.length > MAX_LABEL_VALUE_LENGTH || !(v as WellFormed).isWellFormed())
      return true;
  }
  return false;
}

/** The label name of every attribute key of one metric (undefined: the key is dropped). */
function keyMap(
  keys: ReadonlySet<string>,
  reserved: ReadonlySet<string>,
  metric: string,
  opts: FixOptions,
): Map<string, string | undefined> {
  const { report, escaping } = opts;
  const map = new Map<string, string | undefined>();
  const taken = new Set<string>();
  for (const k of keys) {
    if (isCanonical(k, escaping) && !reserved.has(k)) {
      map.set(k, k);
      taken.add(k);
    }
  }
  for (const k of [...keys].sort()) {
    if (map.has(k)) continue;
    if (k === '') {
      map.set(k, undefined);
      report?.(metric, 'dropped-key', 'an attribute with an empty key was dropped');
      continue;
    }
    const sanitized = labelKey(k, escaping);
    const base = reserved.has(sanitized) ? 'exported_' + sanitized : sanitized;
    let name = base;
    for (let n = 2; taken.has(name) || reserved.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    map.set(k, name);
    if (name !== sanitized)
      report?.(metric, 'renamed-key', `attribute ${JSON.stringify(k)} is exported as label "${name}"`);
  }
  return map;
}

function fixMetric(
  m: MetricData,
  reservedAll: ReadonlySet<string>,
  reservedHistogram: ReadonlySet<string>,
  opts: FixOptions,
): MetricData {
  const report = opts.report;
  const reserved = m.dataPointType === DataPointType.HISTOGRAM ? reservedHistogram : reservedAll;
  const dps = m.dataPoints as readonly { attributes: Attributes }[];
  let dirty = false;
  for (const dp of dps) {
    if (needsFix(dp.attributes, reserved, opts.escaping)) {
      dirty = true;
      break;
    }
  }
  if (!dirty) return m;
  const keys = new Set<string>();
  for (const dp of dps) for (const k in dp.attributes) keys.add(k);
  const map = keyMap(keys, reserved, m.descriptor.name, opts);
  const seen = new Set<string>();
  const out: { attributes: Attributes }[] = [];
  for (const dp of dps) {
    const attributes: Record<string, string> = {};
    for (const k in dp.attributes) {
      const name = map.get(k);
      const v = labelValue(dp.attributes[k]);
      if (name !== undefined && v !== undefined) attributes[name] = v;
    }
    const id = JSON.stringify(
      Object.keys(attributes)
        .sort()
        .map((k) => [k, attributes[k]]),
    );
    if (seen.has(id)) {
      report?.(
        m.descriptor.name,
        'duplicate-series',
        'two data points have the same labels once written for Prometheus; the first was kept',
      );
      continue;
    }
    seen.add(id);
    out.push({ ...dp, attributes });
  }
  return { ...m, dataPoints: out } as MetricData;
}

/**
 * A copy of `rm` whose attributes are safe Prometheus labels (see the module comment); metrics and the resource whose
 * attributes are all canonical keys with non-empty string values are passed through untouched (one check per
 * attribute). Any other value (a number, say) makes the metric's data points copied with string values, which is also
 * what lets `{a: 1}` and `{a: '1'}` be recognised as one series.
 */
export function fixResourceMetrics(rm: ResourceMetrics, opts: FixOptions = {}): ResourceMetrics {
  const reservedAll = new Set(opts.reservedLabels ?? []);
  const reservedHistogram = new Set([...reservedAll, 'le']);
  let changed = false;
  const scopeMetrics = rm.scopeMetrics.map((sm) => {
    const metrics = sm.metrics.map((m) => fixMetric(m, reservedAll, reservedHistogram, opts));
    if (metrics.every((m, i) => m === sm.metrics[i])) return sm;
    changed = true;
    return { ...sm, metrics };
  });
  let resource = rm.resource;
  if (needsFix(rm.resource.attributes, reservedAll, opts.escaping)) {
    const fixed = fixMetric(
      {
        descriptor: { name: 'target_info' },
        dataPointType: DataPointType.GAUGE,
        dataPoints: [{ attributes: rm.resource.attributes }],
      } as unknown as MetricData,
      reservedAll,
      reservedAll,
      opts,
    );
    resource = resourceFromAttributes(fixed.dataPoints[0]!.attributes);
    changed = true;
  }
  return changed ? { resource, scopeMetrics } : rm;
}
