// The primary's waiting and answering, each scenario in its own child process (fixtures/cluster-scenarios.ts: the real
// ClusterPrimary, real forked workers, real IPC), so that nothing else in this process hears their messages.
import { expect } from 'chai';
import { runResultChild } from '@tuist-telemetry/testing';
import { coreDir, fixturePath } from '../helpers/index.js';

const fixture = fixturePath('cluster-scenarios.ts');
type Scrape = { runs?: number; timeouts: number; malformed: number };
const scenario = <R>(name: string, env: Record<string, string> = {}) =>
  runResultChild<R>([fixture], { cwd: coreDir, env: { SCENARIO: name, ...env } });

describe('core: node:cluster primary (late, missing and unasked snapshots)', function () {
  this.timeout(120_000);

  it("a snapshot that arrives after its scrape gave up does not stand in for the next scrape's answer", async () => {
    const r = await scenario<{ first: Scrape; timedOut: Scrape; after: Scrape; warned: string[] }>('late', {
      TIMEOUT_MS: '5000',
    });
    expect(r.first).to.deep.equal({ runs: 5, timeouts: 0, malformed: 0 });
    // The held reply: the previous values are served, the miss counted and warned once.
    expect(r.timedOut).to.deep.equal({ runs: 5, timeouts: 1, malformed: 0 });
    // The late reply (15 runs) came first; the scrape served its own answer, and the late one was no error.
    expect(r.after).to.deep.equal({ runs: 115, timeouts: 1, malformed: 0 });
    expect(r.warned).to.have.length(1);
    expect(r.warned[0]).to.match(/did not send its snapshot within 5000 ms/);
  });

  it('a worker that exits while a scrape waits for it ends the wait (no timeout, its counts kept)', async () => {
    // The cluster timeout is 10 minutes; the fixture gives up after 75 s.
    const r = await scenario<{ first: Scrape; during: Scrape; warned: string[] }>('exit-while-waiting');
    expect(r.first).to.deep.equal({ runs: 9, timeouts: 0, malformed: 0 });
    expect(r.during).to.deep.equal({ runs: 9, timeouts: 0, malformed: 0 });
    expect(r.warned).to.deep.equal([]);
  });

  it('worker.disconnect() of a worker that never answers waits at most the timeout, then disconnects it as Node does', async () => {
    const r = await scenario<{ returned: boolean; atOnce: boolean; exitedAfterDisconnect: boolean; warned: string[] }>(
      'disconnect-hung',
      { TIMEOUT_MS: '300' },
    );
    expect(r).to.deep.equal({ returned: true, atOnce: true, exitedAfterDisconnect: true, warned: [] });
  });

  it('a worker welcomed by its primary but never asked (nobody scrapes) does not warn that nobody serves its metrics', async () => {
    const r = await scenario<{ out: string }>('welcome-no-collect');
    expect(r.out).to.contain('QUIET');
    expect(r.out).to.not.contain('WARNED');
  });

  it('a new telemetry in a worker while a scrape waits: its answer to the old request is not taken, nothing is malformed', async () => {
    const r = await scenario<{ first: Scrape; during: Scrape; after: Scrape; warned: string[] }>(
      'restart-during-scrape',
    );
    expect(r.first).to.deep.equal({ runs: 10, timeouts: 0, malformed: 0 });
    // The old telemetry's 10 are kept; the waiting scrape ends with the hello, the next one adds the new 3.
    expect(r.during).to.deep.equal({ runs: 10, timeouts: 0, malformed: 0 });
    expect(r.after).to.deep.equal({ runs: 13, timeouts: 0, malformed: 0 });
    expect(r.warned).to.deep.equal([]);
  });

  it('between scrapes the primary collects on its own, so a worker killed without a word keeps what it had answered', async () => {
    const r = await scenario<{ after: Scrape; warned: string[] }>('periodic', { INTERVAL_MS: '200' });
    expect(r.after).to.deep.equal({ runs: 7, timeouts: 0, malformed: 0 });
    expect(r.warned).to.deep.equal([]);
  });
});
