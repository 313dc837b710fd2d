import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type MetricData, type ResourceMetrics, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { exposedName, type EscapingScheme } from '../labels/escaping.js';

export interface ThirdPartyOptions {
  /** Names the exposition already holds (the catalog's, with the `_bucket`/`_sum`/`_count` of its histograms). */
  reserved: ReadonlySet<string>;
  /** `otel_scope_name`/`otel_scope_version` labels on every sample (opt-in, as for the catalog). */
  withScopeLabels: boolean;
  /** A `target_info` series with the resource attributes (opt-in). */
  withTargetInfo: boolean;
  /** Told once per scrape about each metric left out (name collision or unsupported aggregation). */
  skipped: (name: string) => void;
  /** Told about a metric the stock serializer threw on: it is left out and the others are written. */
  failed: (name: string, err: unknown) => void;
}

/** What the stock serializer writes when it has nothing to write. */
const NOTHING = '# no registered metrics';

/** The stock serializer's output without its "nothing to write" comment. */
function strip(text: string): string {
  return text.endsWith(NOTHING) ? text.slice(0, -NOTHING.length) : text;
}

/**
 * Calls `fn` with each cumulative bucket of an OpenTelemetry histogram point, the last one with bound Infinity (a
 * point may or may not list Infinity among its boundaries: it is visited once either way). Shared by the text and
 * protobuf writers of third-party histograms.
 */
export function forEachCumulativeBucket(
  buckets: { boundaries: number[]; counts: number[] },
  fn: (bound: number, cumulative: number) => void,
): void {
  let cum = 0;
  let infinite = false;
  for (let i = 0; i < buckets.counts.length; i++) {
    const bound = buckets.boundaries[i];
    if (bound === undefined && infinite) break;
    if (bound === Infinity) infinite = true;
    cum += buckets.counts[i]!;
    fn(bound === undefined ? Infinity : bound, cum);
  }
}

/** The stock serializer's rule for metric and label names: `[^a-zA-Z0-9_]` becomes `_`, runs of `_` collapse. */
export function sanitize(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

/**
 * The name the stock serializer gives an instrument (it does not export its naming functions): characters other than
 * `[a-zA-Z0-9_]` become `_`, runs of `_` collapse, a leading digit gets a `_`, and monotonic sums end in `_total`.
 */
export function stockName(m: MetricData): string {
  let name = sanitize(m.descriptor.name);
  if (name[0]! >= '0' && name[0]! <= '9') name = '_' + name;
  if (m.dataPointType === DataPointType.SUM && m.isMonotonic && !name.endsWith('_total')) name += '_total';
  return name;
}

type WellFormed = string & { toWellFormed(): string };

/**
 * The name a third-party instrument is served under: without escaping asked for, `stockName` (as today and as stock
 * exporters serve it); with a scheme (labels/escaping.ts), the instrument's own name (`_total` added to monotonic
 * sums as the stock serializer does, ill-formed UTF-16 made well-formed) exposed by that scheme, so `allow-utf-8`
 * keeps its dots.
 */
export function metricName(m: MetricData, escaping: EscapingScheme | undefined): string {
  if (escaping === undefined) return stockName(m);
  let name = (m.descriptor.name as WellFormed).toWellFormed();
  if (name !== '' && m.dataPointType === DataPointType.SUM && m.isMonotonic && !name.endsWith('_total'))
    name += '_total';
  return exposedName(name, escaping);
}

/** Every sample name a metric is written with. */
function sampleNames(name: string, m: MetricData): string[] {
  return m.dataPointType === DataPointType.HISTOGRAM || m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM
    ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
    : [name];
}

/**
 * Instruments that are not in the catalog (created on the MeterProvider by the app or by stock instrumentations),
 * written by the stock `@opentelemetry/exporter-prometheus` serializer, so they are named and shaped exactly as the
 * stock exporter serves them. The catalog does not go through it: its documented names include counters without
 * `_total`, which the stock serializer would rename, and its fast writer (serialize.ts) writes a 10k-series store
 * several times faster than the stock one (see bench).
 *
 * Before the stock serializer sees the collection, this writer keeps the exposition valid and this package's
 * defaults: a metric whose names collide with the catalog or with an earlier third-party metric, or whose
 * aggregation the text format cannot carry (exponential histograms), is left out (reported through `skipped`), and
 * scope labels and `target_info` stay off unless asked for.
 */
export class ThirdPartyWriter {
  /** Writes one metric at a time (no target_info), so that a metric it throws on costs only that metric. */
  private readonly serializer: PrometheusSerializer;
  /** Writes `target_info` alone (when asked for). */
  private readonly targetInfo: PrometheusSerializer | undefined;

  constructor(private readonly opts: ThirdPartyOptions) {
    this.serializer = new PrometheusSerializer(undefined, false, undefined, true, !opts.withScopeLabels);
    this.targetInfo = opts.withTargetInfo
      ? new PrometheusSerializer(undefined, false, undefined, false, true)
      : undefined;
  }

  /**
   * The exposition text of `rm`'s metrics and, when asked for, `target_info` from its resource; '' when there is
   * nothing to serve. Attributes must already be valid labels (the label policy, labels/attributes.ts). A metric
   * the stock serializer throws on is left out (reported through `failed`).
   */
  write(rm: ResourceMetrics): string {
    const scopeMetrics = this.keep(rm.scopeMetrics);
    let text = '';
    if (this.targetInfo) {
      try {
        text = strip(this.targetInfo.serialize({ resource: rm.resource, scopeMetrics: [] }));
      } catch (err) {
        this.opts.failed('target_info', err);
      }
    }
    for (const sm of scopeMetrics) {
      for (const m of sm.metrics) {
        try {
          text += strip(
            this.serializer.serialize({ resource: rm.resource, scopeMetrics: [{ scope: sm.scope, metrics: [m] }] }),
          );
        } catch (err) {
          this.opts.failed(stockName(m), err);
        }
      }
    }
    return text;
  }

  /**
   * The metrics `write` would serve of `rm` (the same selection, reported the same way), for the protobuf writer
   * (third-party-protobuf.ts).
   */
  select(rm: ResourceMetrics, escaping?: EscapingScheme): ScopeMetrics[] {
    return this.keep(rm.scopeMetrics, true, escaping);
  }

  /**
   * The metrics a text format serves of `rm` when the scraper asked for `escaping` (named by that scheme; written by
   * third-party-text.ts, since the stock serializer only knows its own names).
   */
  selectText(rm: ResourceMetrics, escaping: EscapingScheme): ScopeMetrics[] {
    return this.keep(rm.scopeMetrics, false, escaping);
  }

  /** The metrics to serve; exponential histograms only when the format can carry them (protobuf, as native). */
  private keep(scopes: readonly ScopeMetrics[], exponential = false, escaping?: EscapingScheme): ScopeMetrics[] {
    const seen = new Set<string>();
    const out: ScopeMetrics[] = [];
    for (const sm of scopes) {
      const metrics: MetricData[] = [];
      for (const m of sm.metrics) {
        const t = m.dataPointType;
        const name = metricName(m, escaping);
        const names = sampleNames(name, m);
        const supported =
          t === DataPointType.SUM ||
          t === DataPointType.GAUGE ||
          t === DataPointType.HISTOGRAM ||
          (exponential && t === DataPointType.EXPONENTIAL_HISTOGRAM);
        if (!supported || name === '' || name === '_' || names.some((n) => this.opts.reserved.has(n) || seen.has(n))) {
          this.opts.skipped(name);
          continue;
        }
        for (const n of names) seen.add(n);
        metrics.push(m);
      }
      if (metrics.length > 0) out.push({ scope: sm.scope, metrics });
    }
    return out;
  }
}
