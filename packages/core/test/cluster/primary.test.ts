// The primary side of node:cluster (ClusterPrimary) in the test process: this process is the cluster primary and forks
// real workers (fixtures/cluster-worker.mjs, over real IPC) that speak the protocol by hand or run the real agent
// (the harness: helpers/cluster-primary.ts).
import cluster from 'node:cluster';
import { expect } from 'chai';
import type { MetricStore } from '@tuist-telemetry/core/internal';
import type { HistogramSeries } from '../../src/store/store.js';
import {
  MALFORMED_FINAL,
  PROTOCOL_MARK as ours,
  SCENARIO_RUN as run,
  STUCK_MS,
  inProcessPrimary,
  seriesOf,
  valueIn,
  within,
} from '../helpers/index.js';

/** How many timers keep this process alive now. */
const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('core: node:cluster primary (in the test process, real forked workers)', function () {
  this.timeout(60_000);
  const cp = inProcessPrimary();
  const { warned, kinds, workers, start, next, fork, tell, exited, scrape } = cp;

  it('without workers a scrape serves the own store itself', async () => {
    start();
    let served: MetricStore | undefined;
    expect(await cp.primary!.render(async (s) => ((served = s), 'body'))).to.equal('body');
    expect(served).to.equal(cp.own);
  });

  it('serves the sum of the primary and every worker: counters, and histograms up to +Inf, _sum and _count', async () => {
    start();
    const [a, b] = [await fork(), await fork()];
    expect(cp.primary!.workerCount).to.equal(2);
    await tell(a, { ctl: 'record', n: 5 }, 'recorded');
    await tell(b, { ctl: 'record', n: 7 }, 'recorded');
    cp.own.counter('tuist_runs_total').add(2, run);
    cp.own.histogram('tuist_runs_duration_milliseconds').record(2_000_000, run);
    let h: HistogramSeries | undefined;
    await cp.primary!.render(async (store) => {
      expect(valueIn(store, 'tuist_runs_total', run)).to.equal(14);
      h = seriesOf(store, 'tuist_runs_duration_milliseconds', run) as HistogramSeries;
      h = { ...h, counts: [...h.counts] } as unknown as HistogramSeries;
    });
    expect([h!.count, h!.sum, h!.counts[0], h!.counts.at(-1)]).to.deep.equal([13, 60 + 2_000_000, 12, 1]);
    // A later scrape asks again: what the workers counted since is served.
    await tell(a, { ctl: 'record', n: 1 }, 'recorded');
    const timers = refTimers();
    expect(await scrape()).to.deep.equal({ runs: 15, timeouts: 0, malformed: 0 });
    // The bound on each answer ends with it: a scrape leaves no timer that would keep the process alive.
    expect(refTimers()).to.equal(timers);
    expect(warned).to.deep.equal([]);
  });

  it('welcomes every hello; a hello again from the same telemetry keeps what it sent', async () => {
    start();
    const w = await fork();
    // The first welcome may already be through: count from here.
    await tell(w, { ctl: 'record', n: 3 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 3 });
    const welcomed = Number(
      await tell(w, { ctl: 'raw', msg: { ...ours, type: 'hello', incarnation: 'scripted-1' } }, 'welcomed'),
    );
    expect(welcomed).to.be.greaterThan(1);
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 4, timeouts: 0, malformed: 0 });
  });

  it('asks the workers forked before it started to say hello', async () => {
    const w = await fork();
    await tell(w, { ctl: 'record', n: 4 }, 'recorded');
    const timers = refTimers();
    start();
    while (cp.primary!.workerCount === 0) await new Promise((r) => setTimeout(r, 10));
    expect(refTimers(), 'the collection between scrapes keeps no process alive').to.equal(timers);
    expect(await scrape()).to.deep.include({ runs: 4 });
  });

  it("a snapshot that arrives after its scrape gave up does not stand in for the next scrape's answer", async () => {
    start({ timeoutMs: 2000 });
    const w = await fork();
    await tell(w, { ctl: 'record', n: 5 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 5, timeouts: 0, malformed: 0 });
    await tell(w, { ctl: 'mode', mode: 'hold' });
    await tell(w, { ctl: 'record', n: 10 }, 'recorded');
    // The held reply: the previous values are served, the miss counted and warned once.
    expect(await scrape()).to.deep.equal({ runs: 5, timeouts: 1, malformed: 0 });
    await tell(w, { ctl: 'mode', mode: 'answer' });
    await tell(w, { ctl: 'record', n: 100 }, 'recorded');
    // The held reply (15 runs) goes out now, before the next request reaches the worker.
    await tell(w, { ctl: 'release' });
    expect(await scrape()).to.deep.equal({ runs: 115, timeouts: 1, malformed: 0 });
    expect(warned).to.deep.equal([
      `@tuist-telemetry/core: cluster worker ${w.id} did not send its snapshot within 2000 ms ` +
        '(TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS); its previous values were served',
    ]);
    expect(kinds).to.deep.equal(['cluster-timeout']);
    // A reply held past its scrape that arrives after a newer answer was taken: not taken (its lower values would
    // read as a restarted worker, and the newer ones would be counted twice).
    await tell(w, { ctl: 'mode', mode: 'hold' });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 115, timeouts: 2, malformed: 0 });
    await tell(w, { ctl: 'mode', mode: 'answer' });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 117, timeouts: 2, malformed: 0 });
    await tell(w, { ctl: 'release' });
    await tell(w, { ctl: 'record', n: 0 }, 'recorded');
    cp.primary!.close();
    expect(await scrape()).to.deep.equal({ runs: 117, timeouts: 2, malformed: 0 });
  });

  it('a worker that exits while a scrape waits for it ends the wait (no timeout, its counts kept)', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 9 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 9, timeouts: 0, malformed: 0 });
    await tell(w, { ctl: 'mode', mode: 'exit' });
    const gone = exited(w);
    expect(await scrape()).to.deep.equal({ runs: 9, timeouts: 0, malformed: 0 });
    await gone;
    expect(cp.primary!.workerCount).to.equal(0);
    // Served from what it left behind, with no worker left.
    expect(await scrape()).to.deep.equal({ runs: 9, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it('a malformed snapshot is counted and warned about; the previous values are served', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 2 });
    const bad = MALFORMED_FINAL;
    await tell(w, { ctl: 'raw', msg: bad });
    await tell(w, { ctl: 'mode', mode: 'hold' });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    cp.primary!.close();
    expect(await scrape()).to.deep.equal({ runs: 2, timeouts: 0, malformed: 1 });
    expect(warned).to.deep.equal([
      `@tuist-telemetry/core: dropped a malformed snapshot from cluster worker ${w.id} (bad "next"); its previous values were served`,
    ]);
    expect(kinds).to.deep.equal(['cluster-malformed']);
  });

  it('messages of the protocol that are no snapshot, and messages of the app, are no malformed snapshots', async () => {
    start();
    const w = await fork();
    for (const type of ['probe', 'welcome', 'collect']) await tell(w, { ctl: 'raw', msg: { ...ours, type } });
    await tell(w, { ctl: 'raw', msg: { type: 'final', req: -1 } });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 1, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it("takes no snapshot of another telemetry's incarnation", async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 2 });
    await tell(w, { ctl: 'record', n: 5 }, 'recorded');
    await tell(w, { ctl: 'impostor' }, 'impostor');
    cp.primary!.close();
    expect(await scrape()).to.deep.equal({ runs: 2, timeouts: 0, malformed: 0 });
  });

  for (const how of ['disconnect', 'kill', 'destroy'] as const)
    it(`worker.${how}() collects the worker's last snapshot first: what it counted since the last scrape is kept`, async () => {
      start();
      const w = await fork();
      await tell(w, { ctl: 'record', n: 3 }, 'recorded');
      expect(await scrape()).to.deep.include({ runs: 3 });
      await tell(w, { ctl: 'record', n: 4 }, 'recorded');
      const gone = exited(w);
      const returned = w[how]();
      expect(returned).to.equal(how === 'disconnect' ? w : undefined);
      if (how === 'disconnect') expect(w.exitedAfterDisconnect).to.equal(true);
      await gone;
      // As Node's own: only disconnect() marks the exit as intended (kill() and destroy() send a signal only).
      expect(w.exitedAfterDisconnect).to.equal(how === 'disconnect');
      expect(await scrape()).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
      // Its own methods are back once it is gone.
      expect(Object.hasOwn(w, how)).to.equal(false);
    });

  it('cluster.disconnect() keeps what every worker counted', async () => {
    start();
    const [a, b] = [await fork(), await fork()];
    await tell(a, { ctl: 'record', n: 1 }, 'recorded');
    await tell(b, { ctl: 'record', n: 2 }, 'recorded');
    await new Promise<void>((r) => cluster.disconnect(r));
    expect(await scrape()).to.deep.equal({ runs: 3, timeouts: 0, malformed: 0 });
  });

  it('worker.disconnect() of a worker that never answers waits at most the timeout, then disconnects it as Node does', async () => {
    start({ timeoutMs: 300 });
    const w = await fork();
    await tell(w, { ctl: 'mode', mode: 'hold' });
    const gone = exited(w);
    expect(w.disconnect()).to.equal(w);
    expect(w.exitedAfterDisconnect).to.equal(true);
    await gone;
    expect(w.exitedAfterDisconnect).to.equal(true);
    expect(warned).to.deep.equal([]);
  });

  it('a worker welcomed but never asked (nobody scrapes) does not warn that nobody serves its metrics', async () => {
    start();
    const rec = { w: await fork('agent', { WELCOME_MS: '1500' }) };
    const out = () => workers.find((x) => x.w === rec.w)!.out;
    while (!/QUIET|WARNED/.test(out())) await new Promise((r) => setTimeout(r, 50));
    expect(out()).to.not.contain('WARNED');
  });

  it('a new telemetry in a worker while a scrape waits: its answer to the old request is not taken, nothing is malformed', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 4 }, 'recorded');
    await tell(w, { ctl: 'record', n: 6 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 10, timeouts: 0, malformed: 0 });
    await tell(w, { ctl: 'mode', mode: 'hold' });
    const during = scrape();
    // The scrape's request goes out in a microtask of render(): after this, it is on the channel.
    await new Promise((r) => setImmediate(r));
    await tell(w, { ctl: 'reincarnate', n: 3 }, 'reincarnated');
    // The old telemetry's 10 are kept; the waiting scrape ends with the hello, the next one adds the new 3.
    expect(await during).to.deep.equal({ runs: 10, timeouts: 0, malformed: 0 });
    expect(await scrape()).to.deep.equal({ runs: 13, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it('between scrapes the primary collects on its own, so a worker killed without a word keeps what it had answered', async () => {
    start({ intervalMs: 200 });
    const w = await fork();
    await tell(w, { ctl: 'record', n: 7 }, 'recorded');
    // An answer to a request no scrape made (none runs yet), within the bound: the interval is the primary's
    // `snapshotIntervalMs` (200 ms), not the default 5 s.
    await within(next(w, 'answered'), 'an answer between scrapes', STUCK_MS);
    const gone = exited(w);
    w.process.kill('SIGKILL');
    await gone;
    expect(await scrape()).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it('a scrape whose serializer fails does not stop the next one', async () => {
    start();
    await fork();
    const failed = cp.primary!.render(async () => {
      throw new Error('serializer failed');
    });
    const second = scrape();
    expect(await failed.then(String, (err: Error) => err.message)).to.equal('serializer failed');
    expect(await second).to.deep.include({ timeouts: 0 });
  });

  it("close(): the workers' own methods are back, nothing is asked or taken any more", async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 1 });
    expect(Object.hasOwn(w, 'disconnect')).to.equal(true);
    // A scrape that waits when telemetry shuts down ends with the last values.
    await tell(w, { ctl: 'mode', mode: 'hold' });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    const waiting = scrape();
    await new Promise((r) => setImmediate(r));
    cp.primary!.close();
    cp.primary!.close();
    expect(await waiting).to.deep.equal({ runs: 1, timeouts: 0, malformed: 0 });
    for (const name of ['disconnect', 'kill', 'destroy']) expect(Object.hasOwn(w, name), name).to.equal(false);
    await tell(w, { ctl: 'mode', mode: 'answer' });
    await tell(w, { ctl: 'raw', msg: { ...ours, type: 'hello', incarnation: 'x' } });
    await tell(w, { ctl: 'record', n: 0 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 1, timeouts: 0, malformed: 0 });
    expect(cluster.listenerCount('message')).to.equal(0);
  });
});
