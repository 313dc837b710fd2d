/** One declaration per metric: everything else (store, views, HELP/TYPE, docs) is derived from these. */
export type MetricType = 'counter' | 'histogram' | 'gauge';

/**
 * How the primary of a `node:cluster` app combines one family across its processes (see `cluster/`):
 * - `sum`: added up over the primary and every worker; counters and histograms always are (an exited worker's last
 *   counts stay in the sum, so a counter never goes backwards); for gauges of pools and connections.
 * - `once`: one value per series, not multiplied by the worker count: the largest any live process reports (polled
 *   totals such as `tuist_projects_total`, where processes that never polled report 0; info gauges that are 1).
 * - `perWorker`: one series per process with a `worker` label (`primary` or the cluster worker id): per-process
 *   runtime gauges (memory, event loop, handles).
 */
export type ClusterAggregation = 'sum' | 'once' | 'perWorker';

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
  /** How a `node:cluster` primary combines the workers' values; every gauge says it, counters and histograms sum. */
  readonly clusterAggregation?: ClusterAggregation;
}

export type NamingProfile = 'docs' | 'server';
export const NAMING_PROFILES: readonly NamingProfile[] = ['docs', 'server'];

export function exposedName(def: MetricDefinition, naming: NamingProfile): string {
  return naming === 'server' && def.serverName ? def.serverName : def.name;
}

/** The cluster rule of a family: its own for gauges, `sum` for counters and histograms. */
export function clusterAggregationOf(def: MetricDefinition): ClusterAggregation {
  return def.type === 'gauge' ? (def.clusterAggregation ?? 'sum') : 'sum';
}
