/** Starts fixtures/cluster-app.ts (a node:cluster app with telemetry from register) for the cluster suites. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { coreDir, fixturePath, underRegister } from './child-app.js';

const app = fixturePath('cluster-app.ts');

export interface ClusterApp {
  child: ChildProcess;
  /** The primary's /metrics. */
  metricsUrl: string;
  appPort: number;
  output(): string;
  /** Resolves when a stdout line matches (searching from the output's current end unless `fromStart`). */
  waitFor(re: RegExp, fromStart?: boolean, timeoutMs?: number): Promise<RegExpExecArray>;
  command(line: string): void;
  /** The pid of a worker (from its LISTENING line). */
  workerPid(id: number): number;
  /** The ids of the workers that listen and have not exited, in order. */
  liveWorkers(): number[];
  /** The primary's exit. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout and stderr are closed: the primary and every worker (they share both) are gone. */
  ended: Promise<void>;
  /** One request to the app on a fresh connection (the cluster hands each connection to the next worker). */
  get(path: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startClusterApp(env: Record<string, string>): Promise<ClusterApp> {
  // Port 0 for both (the workers share one random port): the app's from its LISTENING lines, /metrics from READY.
  const child = spawn(process.execPath, underRegister(app), {
    cwd: coreDir,
    env: {
      ...process.env,
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      APP_PORT: '0',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const ended = Promise.all(
    [child.stdout!, child.stderr!].map((s) => new Promise<void>((r) => s.once('close', () => r()))),
  ).then(() => {});
  const waitFor = (re: RegExp, fromStart = false, timeoutMs = 60_000): Promise<RegExpExecArray> => {
    const from = fromStart ? 0 : out.length;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(out.slice(from));
        if (m) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${re}:\n${out}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  };
  const ready = waitFor(/READY (\S+)/, true);
  const failed = exited.then(() => {
    throw new Error(`cluster app exited before ready:\n${out}`);
  });
  const m = await Promise.race([ready, failed]);
  // The port of the latest worker that started listening (a replacement gets the same one while others still listen).
  const appPort = (): number => Number([...out.matchAll(/LISTENING \d+ port=(\d+)/g)].at(-1)![1]);
  return {
    child,
    metricsUrl: m[1]!,
    get appPort() {
      return appPort();
    },
    output: () => out,
    waitFor,
    command: (line) => child.stdin!.write(line + '\n'),
    workerPid: (id) => {
      const m = new RegExp(`LISTENING ${id} port=\\d+ pid=(\\d+)`).exec(out);
      if (!m) throw new Error(`worker ${id} never listened:\n${out}`);
      return Number(m[1]);
    },
    liveWorkers: () => {
      const exited = new Set([...out.matchAll(/EXITED (\d+) /g)].map((m) => Number(m[1])));
      return [...out.matchAll(/LISTENING (\d+) /g)].map((m) => Number(m[1])).filter((id) => !exited.has(id));
    },
    exited,
    ended,
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: appPort(), path, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        // A connection handed to a worker that is going away may never be answered.
        req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${path}`)));
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
