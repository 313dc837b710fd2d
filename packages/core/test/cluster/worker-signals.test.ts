// Signals an operator sends to ONE process of a node:cluster app (fixtures/cluster-app.ts, telemetry from register)
// from outside, as `kill <pid>`, `kill -9 <pid>` and the OOM killer do, while the primary keeps serving, and the
// app's own 'exit' handler forks a replacement. The apps start in parallel (mocha runs the tests one by one; the
// start-up of a cluster app is most of their time). Every wait is bounded (WAIT_MS per scrape) and no timing is
// asserted: the cluster timeout is a minute, so a scrape that waits for a worker that is gone or has stopped
// answering fails at the bound instead of passing late.
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseExposition, samples, type Exposition } from '@tuist-telemetry/testing';
import { startClusterApp, type ClusterApp, WAIT_MS, within } from '../helpers/index.js';

const patient = { TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS: '60000' };

/** One scrape of the primary, answered 200 within WAIT_MS from the call (a hang or a 500 fails the test). */
async function scrapeNow(app: ClusterApp, what = 'a scrape of the primary'): Promise<Exposition> {
  const res = await within(fetch(app.metricsUrl), what);
  const text = await within(res.text(), `${what}: its body`);
  expect(res.status, text.slice(0, 300)).to.equal(200);
  return parseExposition(text);
}

const runs = (exp: Exposition, name: string) =>
  samples(exp, 'tuist_runs_total', { name }).reduce((total, s) => total + s.value, 0);
const heapWorkers = (exp: Exposition) =>
  samples(exp, 'nodejs_heap_size_used_bytes')
    .map((s) => s.labels.worker)
    .sort();
const timeouts = (exp: Exposition) =>
  samples(exp, 'tuist_telemetry_cluster_scrape_missed_total', { reason: 'timeout' }).reduce((t, s) => t + s.value, 0);

/** The app's output after it was ready (before, the fixture's primary replaces register's diag logger: OTel warns). */
const sinceReady = (app: ClusterApp) => app.output().slice(app.output().indexOf('READY '));

/** What none of these faults may produce: a missed snapshot, a false "nobody serves" warning, a stack, a crash. */
function expectCalm(app: ClusterApp): void {
  const out = sinceReady(app);
  expect(out, 'no worker timed out').to.not.contain('did not send its snapshot');
  expect(out, 'every worker was welcomed').to.not.contain('has not started telemetry');
  expect(out, 'no stack, no error').to.not.match(/ERR_|Error|\n\s+at /);
  expect(app.child.exitCode, 'the primary runs').to.equal(null);
  expect(app.child.signalCode, 'the primary runs').to.equal(null);
}

async function record(app: ClusterApp, id: number, n: number, name: string): Promise<void> {
  const recorded = app.waitFor(new RegExp(`RECORDED ${id} ${n}\\b`));
  app.command(`record ${id} ${n} ${name}`);
  await recorded;
}

describe('core: node:cluster, one worker signalled from outside while the primary serves', function () {
  this.timeout(120_000);
  let dir: string;
  /** 3 workers that end on SIGTERM after shutting telemetry down (register's and the app's handlers). */
  let app: ClusterApp;
  /** 2 workers that stay alive after SIGTERM until told (telemetry shut down, requests in flight finishing). */
  let draining: ClusterApp;
  /** 2 workers, for SIGTERM to the primary alone: ends the app. */
  let busy: ClusterApp;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tuist-cluster-sig-'));
    await mkdir(path.join(dir, 'busy'));
    const started = await Promise.allSettled([
      startClusterApp({ WORKERS: '3', COUNT_DIR: dir, LOG_COLLECT: '1', ...patient }),
      startClusterApp({ WORKERS: '2', WORKER_SIGTERM: 'drain', ...patient }),
      startClusterApp({ WORKERS: '2', COUNT_DIR: path.join(dir, 'busy'), LOG_COLLECT: '1', ...patient }),
    ]);
    [app, draining, busy] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined!));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });
  after(async () => {
    await Promise.all([app?.stop(), draining?.stop(), busy?.stop()]);
    // The workers outlive the primary for a moment (they write into `dir` as they exit).
    await within(Promise.all([app?.ended, draining?.ended, busy?.ended]), 'every process of the apps gone');
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM to one worker pid during a scrape: every scrape answers 200 with its counts kept, the replacement the app forks is served and counts on', async () => {
    await record(app, 1, 100, 'term');
    await record(app, 2, 50, 'term');
    expect(runs(await scrapeNow(app), 'term')).to.equal(150);
    const pid = app.workerPid(1);
    const replaced = app.waitFor(/LISTENING 4 /);
    const exited = app.waitFor(/EXITED 1 (\S+) (\S+)/);
    // A scrape in flight when the signal comes, and scrapes until the worker is gone and replaced.
    const during = scrapeNow(app, 'the scrape in flight at the SIGTERM');
    process.kill(pid, 'SIGTERM');
    const seen = [runs(await during, 'term')];
    let gone = false;
    void exited.then(() => (gone = true));
    while (!gone) seen.push(runs(await scrapeNow(app, 'a scrape while the worker ends'), 'term'));
    // Register's SIGTERM listener sent the final snapshot, the app's handler then exited with 0.
    expect((await exited).slice(1)).to.deep.equal(['0', 'null']);
    await within(replaced, 'the replacement listening (LISTENING 4)');
    let exp = await scrapeNow(app);
    seen.push(runs(exp, 'term'));
    // The documented behaviour: an exited worker's counts stay in the sum, so the counter never goes back.
    expect(
      seen.every((n) => n === 150),
      `counts seen: ${seen.join(', ')}`,
    ).to.equal(true);
    // The new worker's telemetry said hello: its runtime gauges are served, the gone worker's are not.
    expect(heapWorkers(exp)).to.deep.equal(['2', '3', '4', 'primary']);
    await record(app, 4, 7, 'term');
    exp = await scrapeNow(app);
    expect(runs(exp, 'term')).to.equal(157);
    expect(timeouts(exp)).to.equal(0);
    expect(Number(await readFile(path.join(dir, 'exit-1.txt'), 'utf8'))).to.equal(0);
    expectCalm(app);
  });

  it('SIGKILL to one worker pid while the scrape waits for its snapshot: the scrape ends at once with the others', async () => {
    for (const id of app.liveWorkers()) await record(app, id, 10, 'killed');
    expect(runs(await scrapeNow(app), 'killed')).to.equal(30);
    // A worker whose event loop is blocked cannot answer: the scrape waits for it (the cluster timeout is a minute).
    const [, blockedId, blockedPid] = (await within(app.get('/block?ms=30000'), 'a worker blocking')).split(' ');
    const others = app.liveWorkers().filter((id) => id !== Number(blockedId));
    expect(others).to.have.length(2);
    const asked = Promise.all(others.map((id) => app.waitFor(new RegExp(`COLLECT ${id}\\b`))));
    let answered = false;
    const scrape = scrapeNow(app, 'the scrape waiting for the killed worker').finally(() => (answered = true));
    // The primary asks every worker at once: once the others saw the request, the blocked one's is pending too.
    await within(asked, 'the collect requests of the scrape');
    expect(answered, 'the scrape waits for the blocked worker').to.equal(false);
    const replaced = app.waitFor(/LISTENING \d+ /);
    process.kill(Number(blockedPid), 'SIGKILL');
    const exp = await scrape;
    // Everything counted so far: the killed worker's counts as its last snapshot had them.
    expect(runs(exp, 'killed')).to.equal(30);
    expect(timeouts(exp), 'the wait ended with the worker, not at the timeout').to.equal(0);
    expect(heapWorkers(exp)).to.deep.equal([...others.map(String), 'primary'].sort());
    await app.waitFor(new RegExp(`EXITED ${blockedId} null SIGKILL`), true);
    const [line] = await within(replaced, 'the replacement listening');
    const fresh = Number(line.split(' ')[1]);
    await record(app, fresh, 5, 'killed');
    const later = await scrapeNow(app);
    expect(runs(later, 'killed')).to.equal(35);
    expect(heapWorkers(later)).to.deep.equal([...others.map(String), String(fresh), 'primary'].sort());
    expectCalm(app);
  });

  it('SIGTERM to a worker that stays alive to drain its requests: scrapes do not wait for its stopped telemetry', async () => {
    await record(draining, 1, 40, 'drain');
    await record(draining, 2, 2, 'drain');
    expect(runs(await scrapeNow(draining), 'drain')).to.equal(42);
    process.kill(draining.workerPid(1), 'SIGTERM');
    await within(draining.waitFor(/DRAINING 1\b/, true), 'the worker draining');
    // Its telemetry is shut down (its final snapshot sent) but its process and IPC channel live on.
    for (let i = 0; i < 3; i++) {
      const exp = await scrapeNow(draining, 'a scrape while a worker drains');
      expect(runs(exp, 'drain')).to.equal(42);
      expect(timeouts(exp)).to.equal(0);
    }
    await record(draining, 2, 3, 'drain');
    expect(runs(await scrapeNow(draining), 'drain')).to.equal(45);
    const replaced = draining.waitFor(/LISTENING 3 /);
    draining.command('finish 1');
    await within(draining.waitFor(/EXITED 1 0 /, true), 'the drained worker exiting');
    await within(replaced, 'the replacement listening');
    const exp = await scrapeNow(draining);
    expect(runs(exp, 'drain')).to.equal(45);
    expect(heapWorkers(exp)).to.deep.equal(['2', '3', 'primary']);
    expectCalm(draining);
  });

  it('SIGTERM to the primary pid alone (docker stop) while a scrape waits for a worker busy on a blocked event loop', async () => {
    await record(busy, 1, 5, 'busy');
    expect(runs(await scrapeNow(busy), 'busy')).to.equal(5);
    const [, blockedId] = (await within(busy.get('/block?ms=3000'), 'a worker blocking')).split(' ');
    const [other] = busy.liveWorkers().filter((id) => id !== Number(blockedId));
    // No connections to the app from now on: one handed to the blocked worker while the primary goes makes Node's
    // own cluster code in that worker fail (EPIPE) once it runs again, with or without telemetry.
    const asked = busy.waitFor(new RegExp(`COLLECT ${other}\\b`));
    // Settles either way: answered (the shutdown ends the wait for the blocked worker) or cut off as the port closes.
    const scrape = fetch(busy.metricsUrl).then(
      (res) => res.status,
      () => 'cut off',
    );
    await within(asked, 'the collect request of the scrape');
    busy.child.kill('SIGTERM');
    // The app has no SIGTERM handler of its own: register shuts down, then lets the signal end the primary; the
    // scrape waiting for the blocked worker (a minute's timeout) does not hold it.
    const { signal } = await within(busy.exited, 'the primary exiting');
    expect(signal, busy.output()).to.equal('SIGTERM');
    expect(await within(scrape, 'the scrape in flight settling')).to.be.oneOf([200, 'cut off']);
    // The workers see the primary's channel close and exit with 0 (the blocked one once its event loop is free).
    await within(busy.ended, 'every worker gone', 3000 + WAIT_MS);
    for (const id of [1, 2])
      expect(
        await readFile(path.join(dir, 'busy', `exit-${id}.txt`), 'utf8'),
        `worker ${id}: ${busy.output()}`,
      ).to.equal('0');
    expect(sinceReady(busy), 'no stack, no error').to.not.match(/ERR_|Error|\n\s+at /);
  });
});
