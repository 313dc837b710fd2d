/**
 * Running under `node:cluster` (the primary serves one /metrics for every process) and PM2's cluster mode (every
 * instance serves its own port). See the README's "Running under cluster and PM2".
 */
import cluster from 'node:cluster';
import type { ClusterMode } from '../config/index.js';

export { ClusterPrimary, type ClusterPrimaryOptions } from './primary.js';
export { ClusterWorkerAgent } from './worker.js';
export { ClusterView, PRIMARY_WORKER } from './view.js';

/**
 * What this process is: `single` (cluster handling off), `primary` (a plain process or a cluster primary: it
 * serves /metrics and merges its workers once it has some), `worker` (a node:cluster worker: no port, answers its
 * primary) or `pm2` (an instance of PM2's cluster mode, whose primary is PM2's daemon and never asks for snapshots:
 * it serves its own port, the configured port plus its instance number).
 */
export type ClusterRole =
  | { kind: 'single' }
  | { kind: 'primary' }
  | { kind: 'worker' }
  | { kind: 'pm2'; instance: number };

export function clusterRole(
  mode: ClusterMode,
  env: Readonly<Record<string, string | undefined>>,
  /** Whether this process is a node:cluster worker (a test asks for either answer). */
  isWorker: boolean = cluster.isWorker,
): ClusterRole {
  if (mode === 'off') return { kind: 'single' };
  if (!isWorker) return { kind: 'primary' };
  // PM2 sets pm_id and NODE_APP_INSTANCE (the instance number, 0..N-1) in every process it starts.
  if (env.pm_id !== undefined && env.NODE_APP_INSTANCE !== undefined) {
    const n = Number(env.NODE_APP_INSTANCE);
    return { kind: 'pm2', instance: Number.isSafeInteger(n) && n >= 0 ? n : 0 };
  }
  return { kind: 'worker' };
}
