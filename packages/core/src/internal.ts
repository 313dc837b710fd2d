/**
 * `@tuist-telemetry/core/internal`: what the SDK's own packages (db, http, storage, analytics) take from core beyond
 * the public API. Not for applications: it may change in any release, and the public index does not re-export it.
 *
 * It holds the four decisions those packages used to make each in their own way:
 * - catalog families bound by name, with the name checked by the compiler (`counter`, `gauge`, `histogram`);
 * - which telemetry a recording goes to (`activeTelemetry`);
 * - per-telemetry state, forgotten with the telemetry (`perTelemetry`);
 * - calling the host's callbacks without letting them break the instrumentation (`callHook`, `reportFailure`);
 * and the instrumentation scaffold (`instrumentation-kit/`): the base class of the SDK's instrumentations, method
 * patches that coexist with others', the module-version check, and shared diagnostics-channel subscriptions.
 */
import type { CatalogName, CounterName, GaugeName, HistogramName } from './catalog/index.js';
import { logger, RateLimitedLogger } from './diag/index.js';
import type { CounterFamily, GaugeFamily, HistogramFamily } from './store/store.js';
import { getTelemetry, type Telemetry } from './telemetry/telemetry.js';

export type { CatalogName, CounterName, GaugeName, HistogramName };
export type { Telemetry };
export type { CounterFamily, GaugeFamily, HistogramFamily, Labels, LabelValue } from './store/store.js';
export { CounterRef, HistogramRef, PendingCount, type PendingCounts } from './store/series-refs.js';
export { TelemetryConfigError } from './config/index.js';
export { logger, RateLimitedLogger } from './diag/index.js';
export { hostRuntime, type HostRuntime } from './runtime/which.js';
export { TuistInstrumentationBase } from './instrumentation-kit/instrumentation.js';
export { InstrumentationRegistry, type PatchedModule } from './instrumentation-kit/registry.js';
export {
  patchMethods,
  patchRecord,
  unpatchMethods,
  type Method,
  type PatchRecord,
} from './instrumentation-kit/patch.js';
export { channelSubscription, SharedSubscription, type ChannelListener } from './instrumentation-kit/subscription.js';
export { majorOf, supportsMajor, type Majors } from './instrumentation-kit/version.js';

// For the SDK's own tests, examples, bench and scripts: the catalog as data and the pieces under the facade (the
// public index exports only what the package README documents).
export {
  catalog,
  findMetric,
  HIGH_CARDINALITY_LABELS,
  CACHE_EVENT_TYPES,
  B1,
  B2,
  JOB_BUCKETS,
  clusterAggregationOf,
} from './catalog/index.js';
export type { MetricDefinition } from './catalog/index.js';
export { MetricStore, OVERFLOW_VALUE, MAX_LABEL_VALUE_LENGTH } from './store/store.js';
export { installDefaultDiagLogger } from './diag/index.js';
export { escapeLabelValue, escapeHelp } from './prometheus/format.js';
/** Bytes the gzip member cache holds for a store (the bench's row 6e). */
export { gzipCacheBytes } from './prometheus/compress.js';
export { startRuntimeMetrics } from './runtime/index.js';

/** The catalog counter `name` of a telemetry (a name outside the catalog's counters does not compile). */
export function counter(t: Telemetry, name: CounterName): CounterFamily {
  return t.store.counter(name);
}

/** The catalog gauge `name` of a telemetry. */
export function gauge(t: Telemetry, name: GaugeName): GaugeFamily {
  return t.store.gauge(name);
}

/** The catalog histogram `name` of a telemetry. */
export function histogram(t: Telemetry, name: HistogramName): HistogramFamily {
  return t.store.histogram(name);
}

/**
 * The one rule for where a recording goes: the telemetry the caller passed explicitly (an option such as
 * `{ telemetry }`), else the running one (`getTelemetry()`) at the moment of recording, so an instrumentation
 * enabled before `startTelemetry()`, or one that outlives a restart, records into the current instance. `undefined`
 * when nothing is running: record nothing.
 */
export function activeTelemetry(explicit?: Telemetry): Telemetry | undefined {
  return explicit ?? getTelemetry();
}

/**
 * A getter for one value per telemetry instance (bound families, recorders, collection callbacks), made by
 * `create` on first use and dropped with the instance (a WeakMap, so a shut-down telemetry is not kept alive).
 */
export function perTelemetry<T>(create: (t: Telemetry) => T): (t: Telemetry) => T {
  const cache = new WeakMap<Telemetry, T>();
  return (t) => {
    let v = cache.get(t);
    if (v === undefined) {
      v = create(t);
      cache.set(t, v);
    }
    return v;
  };
}

/** Warnings of code that runs while no telemetry is running (its own RateLimitedLogger then has nowhere to live). */
const detached = new RateLimitedLogger(logger('core'));

function warningsOf(t: Telemetry | undefined): RateLimitedLogger {
  return t?.warnings ?? detached;
}

/**
 * Reports a failure of the SDK's own code (never the host's error): one rate-limited `diag.error` per `kind`
 * through the telemetry's RateLimitedLogger. Never throws, whatever the logger does.
 */
export function reportFailure(
  kind: string,
  message: string,
  err: unknown,
  telemetry: Telemetry | undefined = activeTelemetry(),
): void {
  try {
    warningsOf(telemetry).error(kind, message, err);
  } catch {
    // A logger that throws must not reach the host either.
  }
}

/**
 * Runs a host-facing callback (a user hook such as `poolName`, `routeFor`, `ignore`): its result, or `fallback`
 * when it throws, with one rate-limited warning per `kind` naming `what` through the telemetry's RateLimitedLogger. The
 * instrumented operation itself is never affected.
 */
export function callHook<R>(
  kind: string,
  what: string,
  fn: () => R,
  fallback: R,
  telemetry: Telemetry | undefined = activeTelemetry(),
): R {
  try {
    return fn();
  } catch (err) {
    try {
      warningsOf(telemetry).warn(kind, `${what} threw (${String(err)}); using the default instead`);
    } catch {
      // see reportFailure
    }
    return fallback;
  }
}
