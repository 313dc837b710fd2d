import type { Attributes } from '@opentelemetry/api';
import type { MeterProvider, ViewOptions } from '@opentelemetry/sdk-metrics';
import type { CounterFamily } from '../store/store.js';
import type { RateLimitedLogger } from '../diag/index.js';
import { LabelBound, MAX_REPORTED_THIRD_PARTY_LABELS, ReportedNames, SERIES_OVERFLOW_LABEL } from '../labels/policy.js';
import { MAX_LABEL_VALUE_LENGTH, OVERFLOW_VALUE, attributeText, truncateLabelValue } from '../labels/values.js';

/**
 * The label bound for instruments outside the catalog (on `telemetry.meterProvider`: the app's own, stock
 * instrumentations'), applied before sdk-metrics aggregates, so its cumulative state stays bounded (its own
 * cardinality limit only caps each collection). Per instrument, as for the catalog: one noisy instrument cannot
 * starve the others' `http.route`.
 */

type AttributesProcessor = NonNullable<ViewOptions['attributesProcessors']>[number];

/**
 * Told of a recording of `instrument` whose attribute `key` was recorded as `__overflow__` (`value`), dropped (`key`),
 * or whose attribute set went to the overflow series (`series`, with key `__series__`).
 */
export type ThirdPartyOverflow = (instrument: string, key: string, kind: 'value' | 'key' | 'series') => void;

export interface ThirdPartyBounds {
  /** Distinct values per attribute key, and distinct attribute keys, per instrument. */
  maxLabelValues: number;
  /** Distinct attribute sets (series) per instrument. */
  maxSeries: number;
  onOverflow?: ThirdPartyOverflow;
}

/** What an instrument is reported as when the bound cannot tell instruments apart (see `boundPerInstrument`). */
export const THIRD_PARTY_METRIC = 'third_party';

/**
 * The attributes of the overflow series of an instrument past its series bound: OpenTelemetry's own (its
 * cardinality limit writes the same), served as `otel_metric_overflow="true"`.
 */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

class TrieNode {
  readonly next = new Map<string, TrieNode>();
  end = false;
}

/**
 * The attribute sets an instrument has recorded, up to `max`. The fast path walks a trie keyed by attribute key,
 * then value text, in the order of the attributes (no allocation); a set first seen in another key order is
 * recognised by its sorted form on the slow path and added as one more trie path (at most 4 * max paths).
 */
class AttributeSets {
  private readonly root = new TrieNode();
  private readonly ids = new Set<string>();
  private paths = 0;
  constructor(private readonly max: number) {}

  /** One step of the fast path (`node` undefined once it missed). */
  static step(node: TrieNode | undefined, key: string, text: string): TrieNode | undefined {
    return node?.next.get(key)?.next.get(text);
  }
  get start(): TrieNode {
    return this.root;
  }

  /** Whether `attrs` (already bounded: texts as the fast path saw them) may be a series: known, or room for it. */
  admit(attrs: Attributes): boolean {
    const pairs: [string, string][] = [];
    for (const k in attrs) {
      const v = attrs[k];
      if (v !== undefined && v !== null) pairs.push([k, attributeText(v)]);
    }
    const id = JSON.stringify([...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    if (!this.ids.has(id)) {
      if (this.ids.size >= this.max) return false;
      this.ids.add(id);
    }
    if (this.paths < 4 * this.max) {
      let node = this.root;
      for (const [k, text] of pairs) {
        let byKey = node.next.get(k);
        if (byKey === undefined) node.next.set(k, (byKey = new TrieNode()));
        let byValue = byKey.next.get(text);
        if (byValue === undefined) byKey.next.set(text, (byValue = new TrieNode()));
        node = byValue;
      }
      if (!node.end) this.paths++;
      node.end = true;
    }
    return true;
  }
}

/**
 * One instrument's bound: each attribute key keeps at most `maxLabelValues` distinct values (later ones become
 * `__overflow__`), attribute keys past `maxLabelValues` distinct ones are dropped, a value longer than
 * MAX_LABEL_VALUE_LENGTH characters (its text, for numbers and arrays) is truncated as catalog values are, and an
 * attribute set not seen before, once the instrument has `maxSeries`, is recorded as OVERFLOW_ATTRIBUTES. Attributes
 * within all of it are passed on as they came (no copy).
 */
export function boundedAttributes(instrument: string, opts: ThirdPartyBounds): AttributesProcessor {
  const { maxLabelValues: max, onOverflow } = opts;
  const bounds = new Map<string, LabelBound>();
  const sets = new AttributeSets(opts.maxSeries);
  return {
    process(incoming: Attributes): Attributes {
      let out: Attributes | undefined;
      let node: TrieNode | undefined = sets.start;
      for (const k in incoming) {
        let bound = bounds.get(k);
        if (bound === undefined) {
          if (bounds.size >= max) {
            out ??= { ...incoming };
            delete out[k];
            onOverflow?.(instrument, k, 'key');
            continue;
          }
          bounds.set(k, (bound = new LabelBound(max)));
        }
        const v = incoming[k];
        if (v === undefined || v === null) continue;
        let text = attributeText(v);
        if (text.length > MAX_LABEL_VALUE_LENGTH) {
          text = truncateLabelValue(text);
          out ??= { ...incoming };
          out[k] = text;
        }
        if (bound.admit(text) !== text) {
          out ??= { ...incoming };
          out[k] = text = OVERFLOW_VALUE;
          onOverflow?.(instrument, k, 'value');
        }
        node = AttributeSets.step(node, k, text);
      }
      const attrs = out ?? incoming;
      if (node?.end === true || sets.admit(attrs)) return attrs;
      onOverflow?.(instrument, SERIES_OVERFLOW_LABEL, 'series');
      return OVERFLOW_ATTRIBUTES;
    },
  };
}

/**
 * The View that bounds every instrument; `boundPerInstrument` then gives each instrument a bound of its own. The
 * SDK's cardinality limit (per collection) is raised to hold the `maxSeries` sets and the overflow series, so it
 * never cuts in before this bound (it counts its own overflow set in the limit, hence + 2).
 */
export function thirdPartyBoundView(opts: ThirdPartyBounds): ViewOptions {
  return {
    instrumentName: '*',
    attributesProcessors: [boundedAttributes(THIRD_PARTY_METRIC, opts)],
    aggregationCardinalityLimit: opts.maxSeries + 2,
  };
}

interface ViewLike {
  readonly attributesProcessor: unknown;
}
interface ViewRegistryLike {
  findViews(instrument: { name: string }, scope: unknown): ViewLike[];
}

/**
 * Makes the bound of `provider`'s Views per instrument. sdk-metrics hands an attributes processor no instrument, and a
 * View's processor is shared by every instrument it selects; so this wraps the provider's view registry (sdk-metrics
 * 2.x: `_sharedState.viewRegistry.findViews`, called once when an instrument registers its metric storage) to hand
 * each registration a copy of each View whose processor is `boundedAttributes` of its own instrument. Only for a
 * provider whose Views are all the third-party bound (core's own). Returns false when those internals are missing;
 * the bound then stays one for all instruments, per attribute key (reported as `third_party`).
 */
export function boundPerInstrument(provider: MeterProvider, opts: ThirdPartyBounds): boolean {
  const registry = (provider as unknown as { _sharedState?: { viewRegistry?: Partial<ViewRegistryLike> } })._sharedState
    ?.viewRegistry;
  const findViews = registry?.findViews;
  if (registry === undefined || typeof findViews !== 'function') return false;
  registry.findViews = (instrument, scope) =>
    findViews.call(registry, instrument, scope).map(
      (view) =>
        Object.create(view, {
          attributesProcessor: { value: boundedAttributes(String(instrument.name), opts) },
        }) as ViewLike,
    );
  return true;
}

/**
 * The overflow callback of core's MeterProvider: counts each overflow in `tuist_telemetry_label_overflow_total
 * {metric=<instrument>, label=<attribute key>}` and warns (rate-limited) per metric and label, both through
 * `ReportedNames`, so that never-repeating attribute keys or instrument names add at most
 * MAX_REPORTED_THIRD_PARTY_LABELS pairs (then `__other__`) to the self-metric and to the warnings' memory.
 */
export function thirdPartyOverflowReporter(
  overflow: CounterFamily,
  warnings: RateLimitedLogger,
  bounds: { maxLabelValues: number; maxSeries: number },
): ThirdPartyOverflow {
  const names = new ReportedNames(MAX_REPORTED_THIRD_PARTY_LABELS);
  return (instrument, key, kind) => {
    const [metric, label] = names.name(instrument, key);
    overflow.add(1, { metric, label });
    const prefix = `@tuist-telemetry/core: instrument "${metric}" on the MeterProvider`;
    if (kind === 'value') {
      warnings.warn(
        `overflow:${metric}:${label}`,
        `${prefix}: attribute "${label}" reached ${bounds.maxLabelValues} distinct values (TUIST_TELEMETRY_MAX_LABEL_VALUES); further values are recorded as "__overflow__"`,
      );
    } else if (kind === 'key') {
      warnings.warn(
        `overflow-keys:${metric}`,
        `${prefix} reached ${bounds.maxLabelValues} distinct attribute keys (TUIST_TELEMETRY_MAX_LABEL_VALUES); further keys are dropped`,
      );
    } else {
      warnings.warn(
        `overflow:${metric}:${label}`,
        `${prefix} reached ${bounds.maxSeries} series (TUIST_TELEMETRY_MAX_SERIES_PER_METRIC); further new attribute sets are recorded as otel_metric_overflow="true"`,
      );
    }
  };
}
