import { CACHE_EVENT_TYPES, type CacheEventType } from '../catalog/index.js';
import type { CounterFamily, GaugeFamily, HistogramFamily, MetricStore } from '../store/store.js';
import { describe, describeError, type RateLimitedLogger } from '../diag/index.js';
import type { Poller } from './polling.js';

export interface RunRecord {
  /** The command that ran (`build`, `test`, `generate`, ...). */
  name: string;
  isCi: boolean;
  /** 0 = success, 1 = failure (as the Tuist CLI reports it). */
  status: 0 | 1;
  durationMs?: number;
}

export interface TokenRefreshError {
  cliVersion: string;
  /** e.g. `invalid_token_type`, `invalid_token`. */
  reason: string;
}

export interface JobRecord {
  queue: string;
  worker: string;
  /** Final state, e.g. `success`, `failure`, `cancelled`, `discarded`. */
  state: string;
  durationMs: number;
}

export interface AccountsTotals {
  users: number;
  organizations: number;
}

const cacheEventTypes: ReadonlySet<string> = new Set(CACHE_EVENT_TYPES);

/**
 * The typed recording API for the Tuist server's own metrics. Every method is safe to call with any input:
 * bad values are dropped or normalised with one rate-limited `diag.warn` per kind, never thrown.
 */
export class TuistMetrics {
  private readonly runsTotal: CounterFamily;
  private readonly runsDuration: HistogramFamily;
  private readonly cacheEvents: CounterFamily;
  private readonly cacheUploads: CounterFamily;
  private readonly cacheUploadedBytes: CounterFamily;
  private readonly cacheDownloads: CounterFamily;
  private readonly cacheDownloadedBytes: CounterFamily;
  private readonly previewUploads: CounterFamily;
  private readonly previewDownloads: CounterFamily;
  private readonly tokenRefreshErrors: CounterFamily;
  private readonly projectsTotal: GaugeFamily;
  private readonly organizationsTotal: GaugeFamily;
  private readonly usersTotal: GaugeFamily;
  private readonly jobDuration: HistogramFamily;

  /** @internal */
  constructor(
    store: MetricStore,
    private readonly poller: Poller,
    private readonly warn: RateLimitedLogger,
  ) {
    this.runsTotal = store.counter('tuist_runs_total');
    this.runsDuration = store.histogram('tuist_runs_duration_milliseconds');
    this.cacheEvents = store.counter('tuist_cache_events_total');
    this.cacheUploads = store.counter('tuist_cache_uploads_total');
    this.cacheUploadedBytes = store.counter('tuist_cache_uploaded_bytes');
    this.cacheDownloads = store.counter('tuist_cache_downloads_total');
    this.cacheDownloadedBytes = store.counter('tuist_cache_downloaded_bytes');
    this.previewUploads = store.counter('tuist_previews_uploads_total');
    this.previewDownloads = store.counter('tuist_previews_downloads_total');
    this.tokenRefreshErrors = store.counter('tuist_authentication_token_refresh_error_total');
    this.projectsTotal = store.gauge('tuist_projects_total');
    this.organizationsTotal = store.gauge('tuist_accounts_organizations_total');
    this.usersTotal = store.gauge('tuist_accounts_users_total');
    this.jobDuration = store.histogram('tuist_job_processing_duration_milliseconds');
  }

  /** Counts a run in `tuist_runs_total` and, when `durationMs` is given, times it in `tuist_runs_duration_milliseconds`. */
  recordRun(run: RunRecord): void {
    try {
      if (run === null || typeof run !== 'object') {
        this.warn.warn('run-invalid', 'recordRun: expected { name, isCi, status, durationMs? }; the run was dropped');
        return;
      }
      const st = run.status as unknown;
      const status =
        st === 0 || st === '0' || st === false ? '0' : st === 1 || st === '1' || st === true ? '1' : undefined;
      if (status === undefined) {
        this.warn.warn(
          'run-status',
          `recordRun: status must be 0 (success) or 1 (failure), got ${describe(st)}; the run was dropped`,
        );
        return;
      }
      const ci = run.isCi as unknown;
      const labels = { name: run.name, is_ci: ci === true || ci === 'true' ? 'true' : 'false', status };
      const durationMs = run.durationMs;
      this.runsTotal.add(1, labels);
      if (durationMs !== undefined) this.runsDuration.record(durationMs, labels);
    } catch (err) {
      this.dropped('recordRun', err);
    }
  }

  /** Counts a binary cache event: `local_hit`, `remote_hit` or `miss`. */
  recordCacheEvent(eventType: CacheEventType, count = 1): void {
    if (!cacheEventTypes.has(eventType)) {
      this.warn.warn(
        'cache-event-type',
        `recordCacheEvent: unknown event type ${describe(eventType)} (use local_hit, remote_hit or miss); dropped`,
      );
      return;
    }
    this.cacheEvents.add(count, { event_type: eventType });
  }

  /** Counts one cache upload and its bytes. */
  recordCacheUpload(bytes: number): void {
    this.cacheUploads.add(1);
    this.cacheUploadedBytes.add(bytes);
  }

  /** Counts one cache download and its bytes. */
  recordCacheDownload(bytes: number): void {
    this.cacheDownloads.add(1);
    this.cacheDownloadedBytes.add(bytes);
  }

  recordPreviewUpload(): void {
    this.previewUploads.add(1);
  }

  recordPreviewDownload(): void {
    this.previewDownloads.add(1);
  }

  recordTokenRefreshError(e: TokenRefreshError): void {
    try {
      if (e === null || typeof e !== 'object') {
        this.warn.warn('token-invalid', 'recordTokenRefreshError: expected { cliVersion, reason }; dropped');
        return;
      }
      this.tokenRefreshErrors.add(1, { cli_version: e.cliVersion, reason: e.reason });
    } catch (err) {
      this.dropped('recordTokenRefreshError', err);
    }
  }

  /** Times a background job in `tuist_job_processing_duration_milliseconds{queue, worker, state}`. */
  recordJob(job: JobRecord): void {
    try {
      if (job === null || typeof job !== 'object') {
        this.warn.warn('job-invalid', 'recordJob: expected { queue, worker, state, durationMs }; dropped');
        return;
      }
      this.jobDuration.record(job.durationMs, { queue: job.queue, worker: job.worker, state: job.state });
    } catch (err) {
      this.dropped('recordJob', err);
    }
  }

  /** A record object whose getter or Proxy trap threw: nothing of it was recorded. */
  private dropped(method: string, err: unknown): void {
    this.warn.warn(`${method}-threw`, `${method}: reading the record threw (${describeError(err)}); it was dropped`);
  }

  /**
   * Polls the number of projects at start-up and then every poll interval (10 minutes by default), never on a
   * scrape. Between polls the last value is served; a callback that throws or rejects keeps the previous value.
   */
  observeProjectsTotal(fn: () => number | Promise<number>): () => void {
    return this.poller.add('observeProjectsTotal', fn, (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected a finite number, got ${describe(v)}`);
      this.projectsTotal.set(v);
    });
  }

  /** Polls the numbers of user and organization accounts, like `observeProjectsTotal`. */
  observeAccountsTotals(fn: () => AccountsTotals | Promise<AccountsTotals>): () => void {
    return this.poller.add('observeAccountsTotals', fn, (v) => {
      const t = v as AccountsTotals | undefined;
      if (!t || !Number.isFinite(t.users) || !Number.isFinite(t.organizations)) {
        throw new Error(`expected { users, organizations } as finite numbers, got ${describe(v)}`);
      }
      this.usersTotal.set(t.users);
      this.organizationsTotal.set(t.organizations);
    });
  }
}
