/**
 * The JS clients this SDK is measured against ("anchors"): prom-client 15 and the two faster clients that keep its
 * API (`Registry`, `Counter`, `Histogram`, `metrics()`): @prometheus-io/client (prom-client's successor under the
 * Prometheus org, Node >= 22) and @platformatic/prom-client. Ratios against "the fastest JS client" take the
 * smallest of the three numbers of the same run.
 */
import type * as PromClient from 'prom-client';

export type Anchor = 'prom-client' | 'prometheus-io' | 'platformatic';

export const ANCHORS: readonly Anchor[] = ['prom-client', 'prometheus-io', 'platformatic'];

/** Package and pinned version (bench/package.json), as the report names them. */
export const ANCHOR_LABELS: Record<Anchor, string> = {
  'prom-client': 'prom-client 15.1.3',
  'prometheus-io': '@prometheus-io/client 0.16.1',
  platformatic: '@platformatic/prom-client 1.0.0',
};

const PACKAGES: Record<Anchor, string> = {
  'prom-client': 'prom-client',
  'prometheus-io': '@prometheus-io/client',
  platformatic: '@platformatic/prom-client',
};

/** The lowest Node major each anchor supports (its package.json `engines`). */
const MIN_NODE: Partial<Record<Anchor, number>> = { 'prometheus-io': 22 };

export function isAnchor(impl: string): impl is Anchor {
  return (ANCHORS as readonly string[]).includes(impl);
}

/** Why `impl` cannot run on Node `major` (undefined when it can); only anchors have such limits. */
export function unsupportedOn(impl: string, major = Number(process.versions.node.split('.')[0])): string | undefined {
  const min = isAnchor(impl) ? MIN_NODE[impl] : undefined;
  return min !== undefined && major < min ? `${ANCHOR_LABELS[impl as Anchor]} needs Node >= ${min}` : undefined;
}

/** The prom-client API, as all three anchors export it (CommonJS packages). */
export type PromClientApi = Pick<typeof PromClient, 'Registry' | 'Counter' | 'Histogram'>;

export async function loadAnchor(anchor: Anchor): Promise<PromClientApi> {
  const why = unsupportedOn(anchor);
  if (why) throw new Error(why);
  const m = (await import(PACKAGES[anchor])) as { default?: PromClientApi } & PromClientApi;
  return m.default ?? m;
}
