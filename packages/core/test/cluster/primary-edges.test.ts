// The primary's edges with real forked workers in the test process (harness: helpers/cluster-primary.ts): kill()
// asks once, a method the app wrapped over the primary's, a worker that cuts its channel while asked, a worker
// without telemetry, a snapshot without incarnation, a worker that lives on after its final snapshot, the collection
// between scrapes, an app's own worker method, a hello after 'disconnect', a final before the hello.
import cluster, { type Worker } from 'node:cluster';
import { expect } from 'chai';
import { isOurs } from '../../src/cluster/protocol.js';
import { MALFORMED_FINAL, PROTOCOL_MARK as ours, inProcessPrimary } from '../helpers/index.js';

describe('core: node:cluster primary edges (in the test process, real forked workers)', function () {
  this.timeout(60_000);
  const cp = inProcessPrimary();
  const { warned, start, fork, tell, until, exited, scrape } = cp;
  /** Counts the snapshots the worker sends from now (as the primary reads them: the worker's `answered` that follows
   * each may be cut off by a disconnect). */
  const answers = (w: Worker) => {
    const seen = { n: 0 };
    w.on('message', (m: unknown) => {
      if (isOurs(m) && m.type === 'snapshot') seen.n++;
    });
    return seen;
  };

  for (const how of ['disconnect', 'kill', 'destroy'] as const)
    it(`worker.${how}() asks for the last snapshot once (kill() goes through destroy())`, async () => {
      start();
      const w = await fork();
      const seen = answers(w);
      const gone = exited(w);
      w[how]();
      await gone;
      expect(seen.n).to.equal(1);
    });

  it("a worker's method called on another worker is that worker's, at once", async () => {
    start();
    const [a, b] = [await fork(), await fork()];
    const gone = exited(b);
    a.disconnect.call(b);
    await gone;
    expect(a.isConnected()).to.equal(true);
    expect(b.exitedAfterDisconnect).to.equal(true);
  });

  it("a method the app wrapped over the primary's stays at close(); the primary's under it then asks nothing", async () => {
    start();
    const w = await fork();
    const theirs = w.disconnect;
    let calls = 0;
    const wrapper = function (this: Worker) {
      calls++;
      return theirs.call(this);
    };
    w.disconnect = wrapper;
    cp.primary!.close();
    expect(w.disconnect).to.equal(wrapper);
    const seen = answers(w);
    const gone = exited(w);
    // With the primary closed, nobody would take an answer: the disconnect must not wait for one (600 s).
    w.disconnect();
    await gone;
    expect(seen.n).to.equal(0);
    // And on a worker that is gone, it does what Node's does (nothing).
    expect(w.disconnect()).to.equal(w);
    expect(calls).to.equal(2);
  });

  it("a method the app wrapped over the primary's, called once the worker is gone, does what Node's does", async () => {
    start();
    const w = await fork();
    const theirs = w.destroy;
    w.destroy = function (this: Worker, signal?: string) {
      return theirs.call(this, signal);
    };
    const gone = exited(w);
    w.process.kill('SIGKILL');
    await gone;
    expect(() => w.destroy()).to.not.throw();
  });

  it("a worker's own method that the app set before telemetry started is called, and put back when the worker goes", async () => {
    // Forked before the primary: the hello answers the primary's probe, after the app set its own disconnect().
    const w = await fork();
    const node = Object.getPrototypeOf(w).disconnect as Worker['disconnect'];
    let calls = 0;
    const mine = function (this: Worker) {
      calls++;
      return node.call(this);
    };
    w.disconnect = mine;
    start();
    await until(() => cp.primary!.workerCount === 1, 'the hello of the worker forked before the primary');
    expect(w.disconnect).to.not.equal(mine);
    const gone = exited(w);
    w.disconnect();
    await gone;
    expect(calls).to.equal(1);
    expect(w.disconnect).to.equal(mine);
  });

  it("a hello that Node delivers after the worker's 'disconnect' adds no worker: it is gone, its counts kept once", async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 3 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 3 });
    const gone = exited(w);
    w.process.kill('SIGKILL');
    await gone;
    await until(() => cp.primary!.workerCount === 0, "the worker's disconnect at the primary");
    // child_process closes a channel that holds part of a message only with the next message it delivers, and then
    // delivers the messages read behind that one after 'disconnect': such a hello comes from a worker that is gone.
    cluster.emit('message', w, { ...ours, type: 'hello', incarnation: 'scripted-1' });
    expect(cp.primary!.workerCount).to.equal(0);
    for (const name of ['disconnect', 'kill', 'destroy']) expect(Object.hasOwn(w, name), name).to.equal(false);
    expect(await scrape()).to.deep.equal({ runs: 3, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it('a final snapshot of a worker that has not said hello yet is dropped without an error', async () => {
    // Forked before the primary: the final goes out ahead of its hello, which answers the probe of start() (one
    // channel, in order), as when a worker's telemetry stops while the primary's starts.
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    const sent = cp.next(w, 'anonymous');
    w.send({ ctl: 'anonymous' });
    start();
    await sent;
    await until(() => cp.primary!.workerCount === 1, 'the hello that follows the final');
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 3, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });

  it('a worker that closes its channel while asked by kill() still gets the signal', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'mode', mode: 'hold' });
    let signal: string | null = null;
    w.once('exit', (_code, s: string | null) => (signal = s));
    w.kill();
    // The collect request is on the channel before this: the worker holds it, then cuts the channel and runs on
    // (marked as told to disconnect, so Node does not end it): only the primary's signal ends it.
    await tell(w, { ctl: 'cut' });
    await exited(w);
    expect(signal).to.equal('SIGTERM');
  });

  it('a worker without telemetry is no error: not asked, its exit changes nothing', async () => {
    start();
    const mute = await fork('mute');
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(cp.primary!.workerCount).to.equal(1);
    expect(await scrape()).to.deep.equal({ runs: 2, timeouts: 0, malformed: 0 });
    const gone = exited(mute);
    mute.kill();
    await gone;
    expect(await scrape()).to.deep.equal({ runs: 2, timeouts: 0, malformed: 0 });
  });

  it('a snapshot without incarnation (a worker of an earlier version) is taken', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 2 });
    await tell(w, { ctl: 'record', n: 5 }, 'recorded');
    await tell(w, { ctl: 'anonymous' }, 'anonymous');
    cp.primary!.close();
    expect(await scrape()).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
  });

  it('a worker that sent its final snapshot and lives on (draining after SIGTERM) is asked nothing more', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 2 });
    await tell(w, { ctl: 'record', n: 5 }, 'recorded');
    // Its telemetry has shut down: it answers nothing any more.
    await tell(w, { ctl: 'mode', mode: 'hold' });
    const asked = Number(await tell(w, { ctl: 'asked' }, 'asked'));
    await tell(w, { ctl: 'final', last: true }, 'final');
    expect(cp.primary!.workerCount, 'retired').to.equal(0);
    expect(await scrape()).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
    expect(Number(await tell(w, { ctl: 'asked' }, 'asked'))).to.equal(asked);
    expect(warned).to.deep.equal([]);
  });

  it('a malformed final snapshot marked last retires the worker too: its previous values stand, no scrape waits', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    expect(await scrape()).to.deep.include({ runs: 2 });
    await tell(w, { ctl: 'mode', mode: 'hold' });
    const asked = Number(await tell(w, { ctl: 'asked' }, 'asked'));
    const bad = MALFORMED_FINAL;
    await tell(w, { ctl: 'raw', msg: { ...bad, last: true } });
    // One round trip more: the final snapshot, sent before the answer, has been read.
    await tell(w, { ctl: 'asked' }, 'asked');
    expect(cp.primary!.workerCount, 'retired').to.equal(0);
    expect(await scrape()).to.deep.equal({ runs: 2, timeouts: 0, malformed: 1 });
    expect(Number(await tell(w, { ctl: 'asked' }, 'asked'))).to.equal(asked);
    expect(warned).to.have.length(1);
    expect(warned[0]).to.contain('dropped a malformed snapshot');
  });

  it('a worker that disconnects itself (a final snapshot not marked last) is asked until its channel closes', async () => {
    start();
    const w = await fork();
    await tell(w, { ctl: 'record', n: 2 }, 'recorded');
    await tell(w, { ctl: 'final', last: false }, 'final');
    // Requests that end while its servers close are still counted.
    await tell(w, { ctl: 'record', n: 5 }, 'recorded');
    expect(cp.primary!.workerCount).to.equal(1);
    expect(await scrape()).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
  });

  it('between scrapes a worker is asked again only once it answered; those misses are not counted', async () => {
    start({ intervalMs: 20, timeoutMs: 300 });
    const w = await fork();
    await tell(w, { ctl: 'mode', mode: 'hold' });
    const asked = async () => Number(await tell(w, { ctl: 'asked' }, 'asked'));
    // The first unanswered request is given up after 300 ms; only then is the worker asked again. Each request comes
    // within the bound: the interval is the primary's `snapshotIntervalMs` (20 ms), not the default 5 s.
    await until(async () => (await asked()) >= 1, 'a first request between scrapes');
    const first = await asked();
    await new Promise((r) => setTimeout(r, 150));
    expect(await asked(), 'no second request while one waits').to.be.at.most(first + 1);
    await until(async () => (await asked()) >= first + 2, 'a request after the first was given up');
    await tell(w, { ctl: 'mode', mode: 'answer' });
    await tell(w, { ctl: 'record', n: 1 }, 'recorded');
    expect(await scrape()).to.deep.equal({ runs: 1, timeouts: 0, malformed: 0 });
    expect(warned).to.deep.equal([]);
  });
});
