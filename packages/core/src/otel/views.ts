import { AggregationType, createAllowListAttributesProcessor, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { catalog, exposedName, HIGH_CARDINALITY_LABELS, type NamingProfile } from '../catalog/index.js';

export interface CatalogViewsOptions {
  /** High-cardinality labels to keep (`object_key`, `upload_id`, `part_number`) or `all`; default none, like the store. */
  highCardinalityLabels?: readonly string[] | 'all';
}

/**
 * OpenTelemetry Views derived from the catalog, for a stock sdk-metrics `MeterProvider({ views })`: an instrument
 * named like a catalog metric (its documented name) is exported under the profile's name, histograms get the
 * catalog's explicit bucket bounds, and only the catalog's labels are kept (high-cardinality ones only when asked).
 * Core itself does not need them (it aggregates the catalog in its own store); they let OTel-only code and the
 * benchmarks produce the same streams with the stock SDK.
 */
export function catalogViews(naming: NamingProfile = 'docs', options: CatalogViewsOptions = {}): ViewOptions[] {
  const hc = options.highCardinalityLabels;
  const keep = (label: string) => !HIGH_CARDINALITY_LABELS.includes(label) || hc === 'all' || (hc?.includes(label) ?? false);
  return catalog.map((def) => {
    const view: ViewOptions = {
      instrumentName: def.name,
      name: exposedName(def, naming),
      description: def.description,
      attributesProcessors: [createAllowListAttributesProcessor([...def.labels.filter(keep), ...(def.optionalLabels ?? [])])],
    };
    if (def.type === 'histogram') {
      view.aggregation = { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...(def.buckets ?? [])] } };
    }
    return view;
  });
}
