import { spawn } from 'node:child_process';

export interface ChildRun {
  /** Exit code (null when killed by a signal). */
  readonly code: number | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  /** stdout alone (what a fixture prints for the test to parse, with no warning line of stderr inside it). */
  readonly stdout: string;
}

/**
 * Runs `node --import tsx --conditions=source ...args` in `cwd` (so TypeScript fixtures and the packages' sources
 * load as in the tests) to its exit; `env` is added to this process's environment. Never on a fixed port: the
 * child picks its own, so runs may overlap.
 */
export function runTsxChild(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output, stdout }));
  });
}

/** Runs a fixture with `runTsxChild` and returns the JSON of its `RESULT <json>` line; rejects with its output if it failed. */
export async function runResultChild<R>(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<R> {
  const { code, output } = await runTsxChild(args, options);
  const line = /^RESULT (.*)$/m.exec(output);
  if (code !== 0 || !line) throw new Error(`child exited ${code}:\n${output}`);
  return JSON.parse(line[1]!) as R;
}
