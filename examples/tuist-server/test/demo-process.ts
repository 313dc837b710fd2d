/** Runs the demo (`src/main.ts`, from source through tsx) as a child process, as `npm run demo` does. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface DemoProcess {
  url: string;
  /** `http://127.0.0.1:PORT/metrics` as the demo printed it; undefined when it runs no Prometheus endpoint. */
  metricsUrl: string | undefined;
  metricsPort: number | undefined;
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

/**
 * Starts the demo on port 0 for both its server and /metrics (a port found free and passed on could be taken by
 * another process before the demo binds it) and reads the ports back from what it prints once ready.
 */
export async function startDemoProcess(options: DemoProcessOptions = {}): Promise<DemoProcess> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  };
  delete env.NODE_OPTIONS; // mocha's tsx loader options are passed explicitly below
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      'examples/tuist-server/src/main.ts',
      '--port',
      '0',
      '--metrics-port',
      '0',
      ...(options.args ?? []),
    ],
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

  const demo: DemoProcess = {
    url: '',
    metricsUrl: undefined,
    metricsPort: undefined,
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
    // `✓ HTTP server   http://127.0.0.1:PORT (N ms)` and `Metrics    http://127.0.0.1:PORT/metrics` (not a TTY: no
    // colours), read once the last line of the start-up summary has arrived (output comes in chunks).
    const server = /HTTP server\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    if (server && out.includes('Press Ctrl+C to stop.')) {
      demo.url = server;
      const metrics = /Metrics\s+(http:\/\/127\.0\.0\.1:(\d+)\/metrics)/.exec(out);
      demo.metricsUrl = metrics?.[1];
      demo.metricsPort = metrics ? Number(metrics[2]) : undefined;
    }
    try {
      if (demo.url) {
        const res = await fetch(`${demo.url}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) return demo;
      }
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
