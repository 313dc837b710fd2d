import type { MetricDefinition, MetricType } from './types.js';
import { runs } from './runs.js';
import { cache } from './cache.js';
import { previews } from './previews.js';
import { storage } from './storage.js';
import { authentication } from './authentication.js';
import { projects } from './projects.js';
import { accounts } from './accounts.js';
import { database } from './database.js';
import { http } from './http.js';
import { application, httpServer, jobs, analytics } from './application.js';
import { runtime } from './runtime.js';
import { cluster } from './cluster.js';
import { labelPolicy } from './labels.js';
import { exposition } from './exposition.js';

export * from './types.js';
export * from './buckets.js';
export { CACHE_EVENT_TYPES, type CacheEventType } from './cache.js';
export { LABEL_OVERFLOW_METRIC } from './labels.js';
export { RENDER_ERRORS_METRIC } from './exposition.js';

/** The whole catalog, in exposition order: documented families first, then extensions. */
export const catalog: readonly MetricDefinition[] = Object.freeze([
  ...runs,
  ...cache,
  ...previews,
  ...storage,
  ...authentication,
  ...projects,
  ...accounts,
  ...database,
  ...http,
  ...application,
  ...httpServer,
  ...jobs,
  ...analytics,
  ...runtime,
  ...cluster,
  ...labelPolicy,
  ...exposition,
]);

type Declared =
  | (typeof runs)[number]
  | (typeof cache)[number]
  | (typeof previews)[number]
  | (typeof storage)[number]
  | (typeof authentication)[number]
  | (typeof projects)[number]
  | (typeof accounts)[number]
  | (typeof database)[number]
  | (typeof http)[number]
  | (typeof application)[number]
  | (typeof httpServer)[number]
  | (typeof jobs)[number]
  | (typeof analytics)[number]
  | (typeof runtime)[number]
  | (typeof cluster)[number]
  | (typeof labelPolicy)[number]
  | (typeof exposition)[number];

/** The documented names of the catalog's metrics of one type (a misspelled name does not compile). */
export type CatalogName<T extends MetricType = MetricType> = Extract<Declared, { readonly type: T }>['name'];
export type CounterName = CatalogName<'counter'>;
export type GaugeName = CatalogName<'gauge'>;
export type HistogramName = CatalogName<'histogram'>;

/** Labels that make one series per object; off by default (as the Tuist server does), bounded when on. */
export const HIGH_CARDINALITY_LABELS: readonly string[] = Object.freeze(['object_key', 'upload_id', 'part_number']);

const byName = new Map(catalog.map((d) => [d.name, d]));

/** The definition of a catalog metric by its documented name. */
export function findMetric(name: string): MetricDefinition | undefined {
  return byName.get(name);
}
