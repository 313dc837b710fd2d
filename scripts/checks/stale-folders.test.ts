import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownedTempFolder, sweepStaleFolders } from '../testing/src/stale-folders.js';

// The service harnesses sweep the folders of killed runs (scripts/testing/src/stale-folders.ts); here in a folder of
// its own, with real processes as owners and as stand-in servers.
describe('testing harness: service folders left by killed runs are swept, live ones never', () => {
  const PREFIX = 'tuist-telemetry-pg-';
  let dir: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stale-folders-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
  const folder = (name: string, owner?: number) => {
    const f = join(dir, PREFIX + name);
    mkdirSync(join(f, 'data'), { recursive: true });
    if (owner !== undefined) writeFileSync(join(f, 'owner.pid'), `${owner}\n`);
    return f;
  };
  /** A stand-in server: it reports the signals it gets, and its command line names `on` (as `postgres -D` does). */
  const server = async (on?: string) => {
    const script =
      "for (const s of ['SIGQUIT', 'SIGUSR2']) process.on(s, () => process.stdout.write(s + '\\n')); " +
      "process.stdout.write('ready\\n'); setInterval(() => {}, 1000);";
    const child = spawn(process.execPath, ['-e', script, '--', ...(on ? [join(on, 'data')] : [])]);
    children.push(child);
    let out = '';
    const waiting: (() => void)[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const wake of waiting.splice(0)) wake();
    });
    const line = async (text: string) => {
      while (!out.includes(text)) await new Promise<void>((wake) => waiting.push(wake));
    };
    await line('ready');
    // Standard signals are delivered lowest number first: once its SIGUSR2 line is in, an earlier SIGQUIT is too.
    const signalled = async () => {
      child.kill('SIGUSR2');
      await line('SIGUSR2');
      return out.includes('SIGQUIT');
    };
    return { child, signalled };
  };

  it('removes a folder whose owner is gone; keeps one whose owner lives, with its server untouched', async () => {
    const gone = folder('gone', deadPid());
    const mine = folder('mine', process.pid);
    const onMine = await server(mine);
    const other = join(dir, 'something-else');
    mkdirSync(other);
    expect(sweepStaleFolders(dir, PREFIX, 'SIGQUIT')).to.deep.equal([gone]);
    expect(existsSync(gone)).to.equal(false);
    expect(existsSync(mine)).to.equal(true);
    expect(existsSync(other)).to.equal(true);
    expect(await onMine.signalled()).to.equal(false);
  });

  it('a folder from before owners were recorded goes only when no process names it and it is an hour old', async () => {
    const fresh = folder('fresh');
    const old = folder('old');
    const busy = folder('busy');
    const hourAgo = new Date(Date.now() - 61 * 60_000);
    for (const f of [old, busy]) utimesSync(f, hourAgo, hourAgo);
    const onBusy = await server(busy);
    expect(sweepStaleFolders(dir, PREFIX, 'SIGQUIT')).to.deep.equal([old]);
    expect(existsSync(fresh)).to.equal(true);
    expect(existsSync(busy)).to.equal(true);
    expect(await onBusy.signalled()).to.equal(false);
  });

  it("stops a killed run's server that still runs on its folder, then removes the folder", async () => {
    const orphan = folder('orphan', deadPid());
    const { child } = await server(orphan);
    const exited = once(child, 'exit');
    // SIGKILL here: the stand-in would only report a SIGQUIT.
    expect(sweepStaleFolders(dir, PREFIX)).to.deep.equal([orphan]);
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).to.equal('SIGKILL');
    expect(existsSync(orphan)).to.equal(false);
  });

  it('sends the signal asked for, and leaves processes that do not name the folder alone', async () => {
    const orphan = folder('orphan', deadPid());
    const on = await server(orphan);
    const unrelated = await server();
    expect(sweepStaleFolders(dir, PREFIX, 'SIGQUIT')).to.deep.equal([orphan]);
    expect(await on.signalled()).to.equal(true);
    expect(await unrelated.signalled()).to.equal(false);
  });

  it('a harness folder is made after the sweep and owned by its process, so the next sweep keeps it', async () => {
    const gone = folder('gone', deadPid());
    const made = await ownedTempFolder(dir, PREFIX);
    expect(existsSync(gone)).to.equal(false);
    expect(made.startsWith(join(dir, PREFIX))).to.equal(true);
    expect(sweepStaleFolders(dir, PREFIX)).to.deep.equal([]);
    expect(existsSync(made)).to.equal(true);
  });
});
