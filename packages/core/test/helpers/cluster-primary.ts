// The harness of the cluster primary suites (primary.test.ts, primary-edges.test.ts): this process is the cluster
// primary (the real ClusterPrimary) and forks real workers (fixtures/cluster-worker.mjs, plain node on core's dist/,
// over real IPC) that speak the protocol by hand or run the real agent. Each test closes its primary and kills its
// workers; the suite puts cluster's settings back, so that other suites of this process are unaffected.
//
// Bounds: the primary's own bound on a worker's answer defaults to ANSWER_MS here (the product's default is 1000 ms),
// and what a test awaits that the primary could make never come (a scrape, a worker's hello, an acknowledgement, an
// exit) fails the test after STUCK_MS. Both stay under Stryker's per-test timeout (5 s + 1.5 times the test's own time),
// so that a mutant of `npm run mutate` that holds an answer back fails its test (killed) instead of timing out, which
// costs a restart of the test process and its forked workers. A normal answer comes in milliseconds even on a busy
// machine; no time is asserted.
import cluster, { type Worker } from 'node:cluster';
import { catalog, MetricStore } from '@tuist-telemetry/core/internal';
import { ClusterPrimary } from '../../src/cluster/primary.js';
import { PROTOCOL } from '../../src/cluster/protocol.js';
import { within } from './bounded.js';
import { fixturePath } from './child-app.js';
import { KindsKept } from './kinds.js';
import { STORE_OPTIONS, keepingLogger, valueIn } from './index.js';

/** The labels of the runs the scripted workers record. */
export const SCENARIO_RUN = { name: 'scenario', is_ci: 'false', status: '0' };
export const PROTOCOL_MARK = { tuistTelemetry: PROTOCOL } as const;
/** A final snapshot of the scripted worker's incarnation that fails validation (its `next` is -1). */
export const MALFORMED_FINAL = {
  ...PROTOCOL_MARK,
  type: 'final',
  req: -1,
  incarnation: 'scripted-1',
  next: -1,
  families: [],
  defs: [],
  data: '',
} as const;
/** What one scrape served: the runs and the missed counts. */
export type Scrape = { runs?: number; timeouts: number; malformed: number };
const run = SCENARIO_RUN;
/** The primary's bound on a worker's answer (`timeoutMs`) unless a test sets its own. */
export const ANSWER_MS = 2000;
/** The bound on what a test awaits from the primary: a scrape (bounded by `timeoutMs` itself) or an exchange. */
export const STUCK_MS = 4000;

/** Call inside a `describe`: registers the hooks and returns the harness. */
export function inProcessPrimary() {
  const settings = { ...cluster.settings };
  const warned: string[] = [];
  const kinds: string[] = [];
  let warnings: KindsKept;
  let own: MetricStore;
  let primary: ClusterPrimary | undefined;
  const workers: { w: Worker; out: string }[] = [];

  const start = (opts: { timeoutMs?: number; intervalMs?: number } = {}) => {
    // A logger per test: a warning of an earlier test does not hold back the same kind's.
    warnings = new KindsKept(keepingLogger(warned).logger, kinds);
    own = new MetricStore(catalog, STORE_OPTIONS);
    primary = new ClusterPrimary(own, {
      timeoutMs: opts.timeoutMs ?? ANSWER_MS,
      warnings,
      storeOptions: STORE_OPTIONS,
      snapshotIntervalMs: opts.intervalMs ?? 3_600_000,
    });
    return primary;
  };
  const next = (w: Worker, key: string) =>
    new Promise<unknown>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (typeof m === 'object' && m !== null && key in m) {
          w.off('message', on);
          resolve(m[key]);
        }
      };
      w.on('message', on);
    });
  /** A forked worker, once it is up (and, with a primary, once the primary has its hello). */
  const fork = async (mode = 'scripted', env: Record<string, string> = {}) => {
    const before = primary?.workerCount ?? 0;
    const w = cluster.fork({ WORKER_MODE: mode, ...env });
    const rec = { w, out: '' };
    workers.push(rec);
    w.process.stdout!.on('data', (c: Buffer) => (rec.out += c.toString()));
    w.process.stderr!.on('data', (c: Buffer) => (rec.out += c.toString()));
    // Its start-up (tsx) is not the primary's: not bounded here.
    if (mode !== 'agent') await next(w, 'up');
    // A mute worker never says hello.
    const hello = async () => {
      while (mode !== 'mute' && primary !== undefined && primary.workerCount === before)
        await new Promise((r) => setTimeout(r, 10));
    };
    await within(hello(), `the hello of worker ${w.id} at the primary`, STUCK_MS);
    return w;
  };
  const tell = async (w: Worker, msg: Record<string, unknown>, ack?: string) => {
    const acked = ack === undefined ? undefined : next(w, ack);
    w.send(msg);
    return acked === undefined ? undefined : within(acked, `worker ${w.id}'s ${ack}`, STUCK_MS);
  };
  /** Polls `check` every 10 ms until it holds (bounded: what the primary would make never hold fails the test). */
  const until = (check: () => boolean | Promise<boolean>, what: string) =>
    within(
      (async () => {
        while (!(await check())) await new Promise((r) => setTimeout(r, 10));
      })(),
      what,
      STUCK_MS,
    );
  /** The worker's exit (bounded from now: a worker the primary would keep from exiting fails the test). */
  const exited = (w: Worker) =>
    within(
      new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))),
      `the exit of worker ${w.id}`,
      STUCK_MS,
    );
  /** One scrape: the served runs and missed counts. */
  const scrape = async (): Promise<Scrape> => {
    let got: Scrape | undefined;
    const rendered = primary!.render(async (store) => {
      got = {
        runs: valueIn(store, 'tuist_runs_total', run),
        timeouts: valueIn(store, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'timeout' }) ?? 0,
        malformed: valueIn(store, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'malformed' }) ?? 0,
      };
    });
    await within(rendered, 'a scrape', STUCK_MS);
    return got!;
  };

  before(() => {
    cluster.setupPrimary({
      exec: fixturePath('cluster-worker.mjs'),
      execArgv: [],
      args: [],
      silent: true,
    });
  });
  afterEach(async () => {
    primary?.close();
    primary = undefined;
    for (const { w } of workers.splice(0)) {
      const gone = exited(w);
      w.process.kill('SIGKILL');
      await gone;
    }
    warned.length = 0;
    kinds.length = 0;
  });
  after(() => {
    cluster.setupPrimary({
      exec: process.argv[1],
      execArgv: process.execArgv,
      args: process.argv.slice(2),
      silent: false,
      ...settings,
    });
  });

  return {
    warned,
    kinds,
    workers,
    start,
    next,
    fork,
    tell,
    until,
    exited,
    scrape,
    get primary(): ClusterPrimary | undefined {
      return primary;
    },
    get own(): MetricStore {
      return own;
    },
  };
}
