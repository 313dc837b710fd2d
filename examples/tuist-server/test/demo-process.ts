/** Runs the demo (`src/main.ts`, from source through tsx) as a child process, as `npm run demo` does. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tuist-telemetry/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface DemoProcess {
  url: string;
  /** `http://127.0.0.1:PORT/metrics` (also when the prometheus exporter is off: then nothing listens there). */
  metricsUrl: string;
  metricsPort: number;
  child: ChildProcess;
  /** Everything the demo printed so far. */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 20 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface DemoProcessOptions {
  args?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for /healthz; default 60 s. */
  timeoutMs?: number;
}

export async function startDemoProcess(options: DemoProcessOptions = {}): Promise<DemoProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env };
  delete env.NODE_OPTIONS; // mocha's tsx loader options are passed explicitly below
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', 'examples/tuist-server/src/main.ts', '--port', String(port), '--metrics-port', String(metricsPort), ...(options.args ?? [])],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }, // ipc: the demo stops if this process dies
  );
  let out = '';
  const append = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));

  const url = `http://127.0.0.1:${port}`;
  const demo: DemoProcess = {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    metricsPort,
    child,
    output: () => out,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the demo exited (code ${exitCode}) before it was ready:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200 && out.includes('Ready')) return demo;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await demo.stop();
      throw new Error(`the demo was not ready after ${options.timeoutMs ?? 60_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls `fn` until it returns a value other than undefined; throws with `what` and the last error on timeout. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
