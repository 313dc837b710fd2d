import { trace, TraceFlags, type Context } from '@opentelemetry/api';

/** The latest observation of a histogram bucket made inside a sampled span. */
export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Where `@opentelemetry/api` 1.x keeps its globals (the context manager among them). */
const API_KEY = Symbol.for('opentelemetry.js.api.1');
const registry = globalThis as { [API_KEY]?: { context?: { active(): Context } } };

/**
 * Whether a span can be active at all: only once a context manager is registered (a TracerProvider or NodeSDK
 * with tracing). Two property loads, so recording without tracing pays almost nothing for exemplars.
 */
export function tracingPossible(): boolean {
  const api = registry[API_KEY];
  return api !== undefined && api.context !== undefined;
}

/** The exemplar for `value` when a sampled span is active, else undefined. Never throws. */
export function exemplarFor(value: number): Exemplar | undefined {
  try {
    const cm = registry[API_KEY]?.context;
    if (cm === undefined) return undefined;
    const span = trace.getSpan(cm.active());
    if (span === undefined) return undefined;
    const sc = span.spanContext();
    if ((sc.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
    return { traceId: sc.traceId, spanId: sc.spanId, value, timestamp: Date.now() };
  } catch {
    return undefined;
  }
}

/**
 * Keeps `value` as bucket i's exemplar of a histogram series when a sampled span is active. Called by the store
 * only when `tracingPossible()`, and kept out of its `record` so that one stays small enough to inline.
 */
export function keepExemplar(s: { exemplars: (Exemplar | undefined)[] | undefined; readonly counts: Float64Array }, i: number, value: number): void {
  const e = exemplarFor(value);
  if (e === undefined) return;
  (s.exemplars ??= new Array<Exemplar | undefined>(s.counts.length))[i] = e;
}
