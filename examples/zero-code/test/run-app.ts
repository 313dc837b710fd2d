import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** Runs one app with `--import @tuist-telemetry/core/register` (or the preload `args` given) and nothing else; resolves once it said READY. */
export function runApp(entry: string, env: Record<string, string>, args = ['--import', '@tuist-telemetry/core/register']) {
  // Plain node on the built packages, as a user runs it (no tsx, no source condition).
  const child = spawn(process.execPath, [...args, entry], {
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
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

