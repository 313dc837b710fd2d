/**
 * A real Prometheus for end-to-end tests: Debian's `prometheus` binary (or `PROMETHEUS_BIN`), started with a
 * generated configuration that scrapes the given targets, its TSDB in a temporary directory and its web API on a
 * free 127.0.0.1 port. `npm test` (scripts/services.mjs) installs it with apt when missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ownedTempFolder } from './stale-folders.js';

/** The Prometheus binary to use, or undefined when none is installed. */
export function findPrometheus(): string | undefined {
  const candidates = [process.env.PROMETHEUS_BIN, '/usr/bin/prometheus', '/usr/local/bin/prometheus'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** A free TCP port on 127.0.0.1 (bound to port 0, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface StartPrometheusOptions {
  /** Scrape targets as `host:port` (each becomes an `instance` label value). */
  targets: readonly string[];
  /** Job name; default `tuist`. */
  job?: string;
  /** More command-line flags (e.g. `--enable-feature=exemplar-storage`). */
  flags?: readonly string[];
  /** Scrape interval in seconds; default 1. */
  scrapeIntervalSeconds?: number;
  /** How long `start` waits for every target to be `up`; default 30 s. */
  timeoutMs?: number;
  /** More YAML lines of the job (e.g. `authorization:` or `basic_auth:` blocks), indented as job keys. */
  jobConfig?: readonly string[];
  /** More scrape jobs, each with its own targets and YAML lines (auth, …). */
  extraJobs?: readonly { job: string; targets: readonly string[]; config?: readonly string[] }[];
}

export interface PromTarget {
  scrapeUrl: string;
  health: string;
  lastError: string;
  labels: Record<string, string>;
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** The answer of `/api/v1/query`. */
export type PromResult =
  | { resultType: 'vector'; result: PromSeries[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

/** Raised when Prometheus rejects a query (`status: "error"`): `errorType` is e.g. `bad_data` for a parse error. */
/** One series of `/api/v1/query_exemplars` with its exemplars. */
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

export class PromQueryError extends Error {
  override name = 'PromQueryError';
  constructor(
    readonly expr: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`Prometheus rejected ${JSON.stringify(expr)}: ${errorType}: ${message}`);
  }
}

export class PrometheusServer {
  private exited = false;
  /** @internal use startPrometheus */
  constructor(
    /** `http://127.0.0.1:PORT` */
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly log: () => string,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** The scrape targets Prometheus knows (active ones). */
  async targets(): Promise<PromTarget[]> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`);
    const body = (await res.json()) as { data: { activeTargets: PromTarget[] } };
    return body.data.activeTargets;
  }

  /** Waits until every target is `up` and has been scraped at least once. */
  async waitForTargets(count: number, timeoutMs = 30_000): Promise<PromTarget[]> {
    const deadline = Date.now() + timeoutMs;
    let last: PromTarget[] = [];
    for (;;) {
      if (this.exited) throw new Error(`Prometheus exited:\n${this.log()}`);
      try {
        last = await this.targets();
        if (last.length >= count && last.every((t) => t.health === 'up')) return last;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Prometheus targets not up after ${timeoutMs} ms: ${JSON.stringify(last.map((t) => [t.scrapeUrl, t.health, t.lastError]))}\n${this.log()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Runs an instant query; throws PromQueryError when Prometheus rejects the expression. */
  async query(expr: string, time?: number): Promise<PromResult> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const res = await fetch(`${this.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
    const body = (await res.json()) as { status: string; data?: PromResult; errorType?: string; error?: string };
    if (body.status !== 'success' || !body.data)
      throw new PromQueryError(expr, body.errorType ?? `HTTP ${res.status}`, body.error ?? '');
    return body.data;
  }

  /** The series of an instant vector query. */
  async vector(expr: string, time?: number): Promise<PromSeries[]> {
    const r = await this.query(expr, time);
    if (r.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got ${r.resultType}`);
    return r.result;
  }

  /** Exemplars of `expr` over the last `seconds` (`/api/v1/query_exemplars`). */
  async exemplars(expr: string, seconds = 300): Promise<ExemplarSeries[]> {
    const end = Date.now() / 1000;
    const params = new URLSearchParams({ query: expr, start: String(end - seconds), end: String(end + 60) });
    const res = await fetch(`${this.url}/api/v1/query_exemplars?${params}`);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`query_exemplars ${expr}: ${body.error ?? res.status}`);
    return (body.data ?? []) as ExemplarSeries[];
  }

  /** Metric names that have at least one series (`/api/v1/label/__name__/values`). */
  async metricNames(): Promise<string[]> {
    const res = await fetch(`${this.url}/api/v1/label/__name__/values`);
    const body = (await res.json()) as { data: string[] };
    return body.data;
  }

  /** Stops Prometheus and removes its data directory. */
  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function jobConfig(
  job: string,
  targets: readonly string[],
  intervalSeconds: number,
  extra: readonly string[],
): string[] {
  return [
    `  - job_name: ${JSON.stringify(job)}`,
    `    scrape_timeout: ${Math.max(1, intervalSeconds)}s`,
    ...extra.map((l) => `    ${l}`),
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
  ];
}

/** Prometheus configuration text scraping `targets` every `intervalSeconds` (plus `extraJobs`). */
export function prometheusConfig(
  targets: readonly string[],
  job = 'tuist',
  intervalSeconds = 1,
  more: Pick<StartPrometheusOptions, 'jobConfig' | 'extraJobs'> = {},
): string {
  return [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    'scrape_configs:',
    ...jobConfig(job, targets, intervalSeconds, more.jobConfig ?? []),
    ...(more.extraJobs ?? []).flatMap((j) => jobConfig(j.job, j.targets, intervalSeconds, j.config ?? [])),
    '',
  ].join('\n');
}

/**
 * Starts Prometheus scraping `targets` and waits until each is up. Throws when the binary is missing (check with
 * `findPrometheus()` and `requireService` first).
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const bin = findPrometheus();
  if (!bin) throw new Error('Prometheus is not installed: apt-get install prometheus, or set PROMETHEUS_BIN');
  // Folders (and servers) of killed runs go first (stale-folders.ts).
  const dir = await ownedTempFolder(tmpdir(), 'tuist-prom-');
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    prometheusConfig(options.targets, options.job, options.scrapeIntervalSeconds ?? 1, options),
  );
  // Port 0, read back from Prometheus' own `msg="Listening on" address=127.0.0.1:PORT` line (info level): a port
  // found free and passed on could be taken by another process before Prometheus binds it.
  const child = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      // The Debian build serves consoles from /etc/prometheus; point them at the temp dir so nothing is read.
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
      '--log.level=info',
      ...(options.flags ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  let port: number | undefined;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    log = (log + d).slice(-20_000);
    port ??= Number(/msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(log)?.[1]) || undefined;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (port === undefined && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (port === undefined) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Prometheus did not say where it listens:\n${log}`);
  }
  const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir, () => log);
  try {
    const count = options.targets.length + (options.extraJobs ?? []).reduce((n, j) => n + j.targets.length, 0);
    await server.waitForTargets(count, options.timeoutMs ?? 30_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
