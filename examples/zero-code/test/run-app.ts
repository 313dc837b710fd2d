import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newListeningPort } from '@tuist-telemetry/testing';

const dir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs one app with `--import @tuist-telemetry/core/register` (or the preload `args` given) and nothing else;
 * resolves once it said READY. `command` is the runtime's binary (this Node by default; Bun or Deno with their own
 * preload `args`).
 */
export function runApp(
  entry: string,
  env: Record<string, string>,
  args = ['--import', '@tuist-telemetry/core/register'],
  command = process.execPath,
) {
  // Plain node on the built packages, as a user runs it (no tsx, no source condition).
  const child = spawn(command, [...args, entry], {
    cwd: dir,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`${entry} exited before READY:\n${out}`)));
  });
  return {
    ready,
    /**
     * The port of /metrics, for an app started with OTEL_EXPORTER_PROMETHEUS_PORT=0: the one port it listens on
     * besides those of the URLs in its READY line (the app knows nothing of telemetry, so it cannot print it).
     */
    metricsPort: async (): Promise<number> => {
      const known = [...(await ready).matchAll(/:\/\/[^:/"]+:(\d+)/g)].map((m) => Number(m[1]));
      return newListeningPort(child.pid!, known);
    },
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
