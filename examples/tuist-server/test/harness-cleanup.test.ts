import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@tuist-telemetry/testing';

/**
 * The suites' harnesses (scripts/testing: s3.ts, postgres.ts) remove their folders when a test process ends without
 * calling stop(): Ctrl+C (SIGINT to its process group), SIGTERM to its pid, an uncaught exception (issue 24 item 7).
 */
const cwd = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/harness-child.ts', import.meta.url));

async function runAndEnd(
  end: 'SIGINT to the group' | 'SIGTERM' | 'crash',
): Promise<{ folders: string[]; output: string; code: number | null; signal: string | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HARNESS_CRASH: end === 'crash' ? '1' : '0' };
  delete env.NODE_OPTIONS;
  delete env.TEST_DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const folders = await eventually(
      'the harnesses started',
      async () => {
        if (child.exitCode !== null && end !== 'crash') throw new Error(`exited ${child.exitCode}:\n${out}`);
        const line = /^FOLDERS (.*)$/m.exec(out);
        return line ? (JSON.parse(line[1]!) as string[]) : undefined;
      },
      90_000,
      100,
    );
    expect(
      folders.every((f) => existsSync(f)),
      out,
    ).to.equal(true);
    expect(readdirSync(folders[0]!), 'the bucket is in the s3rver folder').to.include('b');
    if (end === 'SIGINT to the group') process.kill(-child.pid!, 'SIGINT');
    else if (end === 'SIGTERM') child.kill('SIGTERM');
    const { code, signal } = await exited;
    return { folders, output: out, code, signal };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}

describe('testing harnesses: s3rver and PostgreSQL folders are removed when the test process ends without stop()', function () {
  this.timeout(120_000);

  for (const end of ['SIGINT to the group', 'SIGTERM', 'crash'] as const) {
    it(`${end}: no folder is left`, async () => {
      const r = await runAndEnd(end);
      expect(
        r.folders.filter((f) => existsSync(f)),
        r.output,
      ).to.deep.equal([]);
      if (end === 'crash') expect(r.output).to.include('Error: crash');
      else expect(r.code !== 0 || r.signal !== null, 'the process still ends as signalled').to.equal(true);
    });
  }
});
