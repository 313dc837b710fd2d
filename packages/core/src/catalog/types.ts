/** One declaration per metric: everything else (store, views, HELP/TYPE, docs) is derived from these. */
export type MetricType = 'counter' | 'histogram' | 'gauge';

export interface MetricDefinition {
  /** The documented name (the `docs` naming profile). */
  readonly name: string;
  readonly type: MetricType;
  /** Catalog family, one file per family under `catalog/`. */
  readonly family: string;
  readonly description: string;
  /** UCUM unit as OpenTelemetry spells it (`ms`, `ns`, `By`, `s`, `1`). */
  readonly unit?: string;
  /** Documented label names, in exposition order. */
  readonly labels: readonly string[];
  /**
   * Labels that appear only when a value is given (e.g. `repo` for a named pg pool). A series whose optional
   * label is unset carries no such label.
   */
  readonly optionalLabels?: readonly string[];
  /** Histogram bucket upper bounds (exact values, ascending). */
  readonly buckets?: readonly number[];
  /** The name the Tuist server itself emits, when it differs from the docs (the `server` naming profile). */
  readonly serverName?: string;
  /** `true` for metrics beyond the Tuist docs (SDK extensions). */
  readonly extension?: boolean;
  /** Counters/gauges without labels exported as 0 from start-up so `rate()` works from the first scrape. */
  readonly initialSeries?: readonly Readonly<Record<string, string>>[];
}

export type NamingProfile = 'docs' | 'server';
export const NAMING_PROFILES: readonly NamingProfile[] = ['docs', 'server'];

export function exposedName(def: MetricDefinition, naming: NamingProfile): string {
  return naming === 'server' && def.serverName ? def.serverName : def.name;
}
