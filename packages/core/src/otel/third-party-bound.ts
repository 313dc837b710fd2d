import type { Attributes } from '@opentelemetry/api';
import type { MeterProvider, ViewOptions } from '@opentelemetry/sdk-metrics';
import type { CounterFamily } from '../store.js';
import type { WarnOnce } from '../diag.js';
import { LabelBound, MAX_REPORTED_THIRD_PARTY_LABELS, ReportedNames } from '../labels/policy.js';
import { MAX_LABEL_VALUE_LENGTH, OVERFLOW_VALUE, attributeText, truncateLabelValue } from '../labels/values.js';

/**
 * The label bound for instruments outside the catalog (on `telemetry.meterProvider`: the app's own, stock
 * instrumentations'), applied before sdk-metrics aggregates, so its cumulative state stays bounded (its own
 * cardinality limit only caps each collection). Per instrument, as for the catalog: one noisy instrument cannot
 * starve the others' `http.route`.
 */

type AttributesProcessor = NonNullable<ViewOptions['attributesProcessors']>[number];

/** Told of a recording of `instrument` whose attribute `key` was recorded as `__overflow__` (`value`) or dropped (`key`). */
export type ThirdPartyOverflow = (instrument: string, key: string, kind: 'value' | 'key') => void;

/** What an instrument is reported as when the bound cannot tell instruments apart (see `boundPerInstrument`). */
export const THIRD_PARTY_METRIC = 'third_party';

/**
 * One instrument's bound: each attribute key keeps at most `max` distinct values (later ones become `__overflow__`),
 * attribute keys past `max` distinct ones are dropped, and a value longer than MAX_LABEL_VALUE_LENGTH characters
 * (its text, for numbers and arrays) is truncated as catalog values are. Attributes within all of it are passed on
 * as they came (no copy).
 */
export function boundedAttributes(instrument: string, max: number, onOverflow?: ThirdPartyOverflow): AttributesProcessor {
  const bounds = new Map<string, LabelBound>();
  return {
    process(incoming: Attributes): Attributes {
      let out: Attributes | undefined;
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
        if (bound.admit(text) === text) continue;
        out ??= { ...incoming };
        out[k] = OVERFLOW_VALUE;
        onOverflow?.(instrument, k, 'value');
      }
      return out ?? incoming;
    },
  };
}

/** The View that bounds every instrument; `boundPerInstrument` then gives each instrument a bound of its own. */
export function thirdPartyBoundView(max: number, onOverflow?: ThirdPartyOverflow): ViewOptions {
  return { instrumentName: '*', attributesProcessors: [boundedAttributes(THIRD_PARTY_METRIC, max, onOverflow)] };
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
export function boundPerInstrument(provider: MeterProvider, max: number, onOverflow?: ThirdPartyOverflow): boolean {
  const registry = (provider as unknown as { _sharedState?: { viewRegistry?: Partial<ViewRegistryLike> } })._sharedState?.viewRegistry;
  const findViews = registry?.findViews;
  if (registry === undefined || typeof findViews !== 'function') return false;
  registry.findViews = (instrument, scope) =>
    findViews.call(registry, instrument, scope).map((view) =>
      Object.create(view, { attributesProcessor: { value: boundedAttributes(String(instrument.name), max, onOverflow) } }) as ViewLike,
    );
  return true;
}

/**
 * The overflow callback of core's MeterProvider: counts each overflow in `tuist_telemetry_label_overflow_total
 * {metric=<instrument>, label=<attribute key>}` and warns (rate-limited) per metric and label, both through
 * `ReportedNames`, so that never-repeating attribute keys or instrument names add at most
 * MAX_REPORTED_THIRD_PARTY_LABELS pairs (then `__other__`) to the self-metric and to the warnings' memory.
 */
export function thirdPartyOverflowReporter(overflow: CounterFamily, warnings: WarnOnce, max: number): ThirdPartyOverflow {
  const names = new ReportedNames(MAX_REPORTED_THIRD_PARTY_LABELS);
  return (instrument, key, kind) => {
    const [metric, label] = names.name(instrument, key);
    overflow.add(1, { metric, label });
    warnings.warn(
      kind === 'value' ? `overflow:${metric}:${label}` : `overflow-keys:${metric}`,
      kind === 'value'
        ? `@tuist-telemetry/core: attribute "${label}" of instrument "${metric}" on the MeterProvider reached ${max} distinct values ` +
            '(TUIST_TELEMETRY_MAX_LABEL_VALUES); further values are recorded as "__overflow__"'
        : `@tuist-telemetry/core: instrument "${metric}" on the MeterProvider reached ${max} distinct attribute keys ` +
            '(TUIST_TELEMETRY_MAX_LABEL_VALUES); further keys are dropped',
    );
  };
}
