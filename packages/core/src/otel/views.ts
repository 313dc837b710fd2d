import type { Attributes } from '@opentelemetry/api';
import { AggregationType, createAllowListAttributesProcessor, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { catalog, exposedName, HIGH_CARDINALITY_LABELS, type NamingProfile } from '../catalog/index.js';
import { DEFAULT_MAX_LABEL_VALUES, LabelBound, effectiveLabels, isBounded } from '../labels/policy.js';
import { OVERFLOW_VALUE, attributeText } from '../labels/values.js';

export interface CatalogViewsOptions {
  /** High-cardinality labels to keep (`object_key`, `upload_id`, `part_number`) or `all`; default none, like the store. */
  highCardinalityLabels?: readonly string[] | 'all';
  /** Distinct values kept per label per metric before `__overflow__`; default 1000, as `TUIST_TELEMETRY_MAX_LABEL_VALUES`. */
  maxLabelValues?: number;
  /** Told each time a value is recorded as `__overflow__` (the store counts these in `tuist_telemetry_label_overflow_total`). */
  onOverflow?: (metric: string, label: string) => void;
}

type AttributesProcessor = NonNullable<ViewOptions['attributesProcessors']>[number];

/** The store's bound (labels/policy.ts) as an attributes processor: values past a label's cap become `__overflow__`. */
function boundedValues(
  metric: string,
  names: readonly string[],
  max: number,
  onOverflow: CatalogViewsOptions['onOverflow'],
): AttributesProcessor {
  const bounds = new Map(names.map((n) => [n, new LabelBound(max)]));
  return {
    process(incoming: Attributes): Attributes {
      let out: Attributes | undefined;
      for (const k in incoming) {
        const bound = bounds.get(k);
        const v = incoming[k];
        if (bound === undefined || v === undefined || v === null) continue;
        const key = attributeText(v);
        if (bound.admit(key) === key) continue;
        out ??= { ...incoming };
        out[k] = OVERFLOW_VALUE;
        onOverflow?.(metric, k);
      }
      return out ?? incoming;
    },
  };
}

/**
 * OpenTelemetry Views derived from the catalog, for a stock sdk-metrics `MeterProvider({ views })`: an instrument
 * named like a catalog metric (its documented name) is exported under the profile's name, histograms get the
 * catalog's explicit bucket bounds, and the store's label policy applies: only the catalog's labels are kept
 * (high-cardinality ones only when asked) and each keeps at most `maxLabelValues` distinct values.
 * Core itself does not need them (it aggregates the catalog in its own store); they let OTel-only code and the
 * benchmarks produce the same streams with the stock SDK.
 */
export function catalogViews(naming: NamingProfile = 'docs', options: CatalogViewsOptions = {}): ViewOptions[] {
  const hc = options.highCardinalityLabels;
  const enabled = new Set(hc === 'all' ? HIGH_CARDINALITY_LABELS : (hc ?? []));
  const highCardinality = new Set(HIGH_CARDINALITY_LABELS);
  const max = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
  return catalog.map((def) => {
    const { names } = effectiveLabels(def, highCardinality, enabled);
    const name = exposedName(def, naming);
    const processors = [createAllowListAttributesProcessor([...names])];
    if (isBounded(def) && names.length > 0) processors.push(boundedValues(name, names, max, options.onOverflow));
    const view: ViewOptions = {
      instrumentName: def.name,
      name,
      description: def.description,
      attributesProcessors: processors,
    };
    if (def.type === 'histogram') {
      view.aggregation = {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [...(def.buckets ?? [])] },
      };
    }
    return view;
  });
}
