/**
 * Background jobs (the Oban counterpart): a periodic maintenance job that recounts what the dashboard shows, each
 * run timed in `tuist_job_processing_duration_milliseconds{queue, worker, state}`.
 */
import type { Telemetry } from '@tuist-telemetry/core';
import type pg from 'pg';
import { inSpan } from './spans.js';

export interface Jobs {
  stop(): void;
}

export function startJobs(telemetry: Telemetry, pool: pg.Pool, intervalMs = 5000): Jobs {
  let running = false;
  // Each run is a span of its own (with traces on): its query and its recording keep it as their exemplar.
  const run = (): Promise<void> => (running ? Promise.resolve() : inSpan('RefreshDashboardStatsWorker', work));
  async function work(): Promise<void> {
    running = true;
    const started = performance.now();
    let state = 'success';
    try {
      await pool.query(
        'SELECT a.kind, count(p.id) FROM accounts a LEFT JOIN projects p ON p.account_id = a.id GROUP BY a.kind',
      );
    } catch {
      state = 'failure';
    } finally {
      telemetry.metrics.recordJob({
        queue: 'maintenance',
        worker: 'RefreshDashboardStatsWorker',
        state,
        durationMs: performance.now() - started,
      });
      running = false;
    }
  }
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
