import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** core's folder: the working directory of every child app, so that `@tuist-telemetry/core/...` resolves. */
export const coreDir = fileURLToPath(new URL('../..', import.meta.url));

/** The path of a file of test/fixtures. */
export const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Node's arguments that run a TypeScript app of core's tests from source with telemetry from register (zero code). */
export const underRegister = (app: string): string[] => [
  '--import',
  'tsx',
  '--conditions=source',
  '--import',
  '@tuist-telemetry/core/register',
  app,
];

/**
 * The environment of a host that configured nothing (the test runner's OTEL_* and TUIST_* variables removed), with
 * the endpoint on 127.0.0.1, port 0; `extra` on top.
 */
export function hostEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (/^(OTEL_|TUIST_)/.test(k)) env[k] = undefined;
  return { ...env, OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0', ...extra };
}

export interface ChildApp {
  child: ChildProcess;
  /** Resolves with the text after `READY ` on the app's stdout. */
  ready: Promise<string>;
  /** Resolves when a line of stdout matches. */
  line(re: RegExp): Promise<RegExpExecArray>;
  output(): string;
  exit: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
}

/**
 * Runs a host app in a child process (its own ports, its own environment, so such tests run in parallel with
 * others) and watches its output.
 */
export function startApp(args: string[], opts: { cwd: string; env: Record<string, string | undefined> }): ChildApp {
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const watchers: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = (): void => {
    for (const w of [...watchers]) {
      const m = w.re.exec(out);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const line = (re: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      watchers.push({ re, resolve });
      check();
      void exit.then(() => setTimeout(() => reject(new Error(`app exited before printing ${re}:\n${out}`)), 50));
    });
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  const ready = line(/READY (.*)\n/).then((m) => m[1]!);
  ready.catch(() => {});
  return {
    child,
    ready,
    line,
    output: () => out,
    exit,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
}
