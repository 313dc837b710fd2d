import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_PREFIX, sweepStaleClusters } from '../testing/src/stale-clusters.js';

// The PostgreSQL harness sweeps the cluster folders of killed runs (scripts/testing/src/stale-clusters.ts); here in
// a folder of its own, with real processes as owners and as a stand-in postmaster.
describe('testing harness: clusters left by killed runs are swept, live ones never', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stale-clusters-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
  const cluster = (name: string, owner?: number, postmaster?: number) => {
    const folder = join(dir, CLUSTER_PREFIX + name);
    mkdirSync(join(folder, 'data'), { recursive: true });
    if (owner !== undefined) writeFileSync(join(folder, 'owner.pid'), `${owner}\n`);
    if (postmaster !== undefined) writeFileSync(join(folder, 'data', 'postmaster.pid'), `${postmaster}\n/x\n`);
    return folder;
  };

  it('removes a folder whose owner is gone; keeps one whose owner lives, whatever its postmaster', () => {
    const gone = cluster('gone', deadPid(), deadPid());
    const mine = cluster('mine', process.pid, deadPid());
    const other = join(dir, 'something-else');
    mkdirSync(other);
    expect(sweepStaleClusters(dir)).to.deep.equal([gone]);
    expect(existsSync(gone)).to.equal(false);
    expect(existsSync(mine)).to.equal(true);
    expect(existsSync(other)).to.equal(true);
  });

  it('a folder from before owners were recorded goes only when its postmaster is gone and it is an hour old', () => {
    const fresh = cluster('fresh');
    const old = cluster('old', undefined, deadPid());
    const hourAgo = new Date(Date.now() - 61 * 60_000);
    utimesSync(old, hourAgo, hourAgo);
    expect(sweepStaleClusters(dir)).to.deep.equal([old]);
    expect(existsSync(fresh)).to.equal(true);
  });

  it("stops a killed run's postmaster that still runs, then removes its folder", async () => {
    const folder = join(dir, `${CLUSTER_PREFIX}orphan`);
    // A stand-in postmaster: its command line names the data directory, as postgres -D does.
    const postmaster = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', join(folder, 'data')]);
    try {
      cluster('orphan', deadPid(), postmaster.pid);
      const exited = once(postmaster, 'exit');
      expect(sweepStaleClusters(dir)).to.deep.equal([folder]);
      const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect(signal).to.equal('SIGQUIT');
      expect(existsSync(folder)).to.equal(false);
    } finally {
      postmaster.kill('SIGKILL');
    }
  });

  it('leaves a process that reuses a dead postmaster pid alone (its command line names no data directory)', async () => {
    // It reports the signals it gets; standard signals are delivered lowest number first, so by the time its SIGUSR2
    // line arrives, a SIGQUIT the sweep had sent would have been reported before it.
    const script =
      "for (const s of ['SIGQUIT', 'SIGUSR2']) process.on(s, () => process.stdout.write(s + '\\n')); " +
      "process.stdout.write('ready\\n'); setInterval(() => {}, 1000);";
    const unrelated = spawn(process.execPath, ['-e', script]);
    try {
      let out = '';
      const waiting: (() => void)[] = [];
      unrelated.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const wake of waiting.splice(0)) wake();
      });
      const line = async (text: string) => {
        while (!out.includes(text)) await new Promise<void>((wake) => waiting.push(wake));
      };
      await line('ready');
      const folder = cluster('reused', deadPid(), unrelated.pid);
      expect(sweepStaleClusters(dir)).to.deep.equal([folder]);
      unrelated.kill('SIGUSR2');
      await line('SIGUSR2');
      expect(out).to.not.include('SIGQUIT');
    } finally {
      unrelated.kill('SIGKILL');
    }
  });
});
