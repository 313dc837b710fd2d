// The worker's own `cluster.worker.disconnect()` and `kill()` (`destroy()`) with the agent in this process: the final
// snapshot goes first (helpers/cluster-channel.ts: an in-process channel to the real WorkerSnapshots and ClusterView).
import { expect } from 'chai';
import { RateLimitedLogger, type MetricStore } from '@tuist-telemetry/core/internal';
import { ClusterWorkerAgent } from '../../src/cluster/worker.js';
import { AGENT_RUN as run, Channel, PrimarySide as Primary, Self, keepingLogger, newStore } from '../helpers/index.js';

describe("core: node:cluster worker agent (the worker's own disconnect() and kill())", () => {
  const agents: ClusterWorkerAgent[] = [];
  const start = (store: MetricStore, ch: Channel, self: Self) => {
    const a = new ClusterWorkerAgent(store, new RateLimitedLogger(keepingLogger().logger), ch.proc, self.worker);
    agents.push(a);
    return a;
  };
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
  });

  for (const name of ['disconnect', 'destroy'] as const)
    it(`cluster.worker.${name}() sends the final snapshot first, then does what it does`, () => {
      const ch = new Channel();
      const self = new Self(ch);
      const store = newStore();
      start(store, ch, self);
      store.counter('tuist_runs_total').add(2, run);
      const result = self[name]();
      expect(result).to.equal(name === 'disconnect' ? self : undefined);
      expect(ch.got.map((m) => m.type)).to.deep.equal(['hello', 'final']);
      expect(ch.got[1]).to.deep.include({ req: -1 });
      // Not its telemetry's last word: it answers the primary until the channel closes.
      expect(ch.got[1]).to.not.have.property('last');
      expect(self.calls).to.deep.equal([`${name} after 2`]);
      const primary = new Primary();
      primary.take(ch.got[1]!);
      expect(primary.runs()).to.equal(2);
    });

  it('sends no final snapshot when called on another object, after stop(), for an earlier agent, or with the channel closed', async () => {
    const ch = new Channel();
    const self = new Self(ch);
    const other = new Self(ch);
    const store = newStore();
    let built = 0;
    store.onCollect(() => built++);
    start(store, ch, self);
    self.disconnect.call(other);
    ch.connected = false;
    self.destroy();
    ch.connected = true;
    expect(ch.of('final')).to.deep.equal([]);
    expect(built, 'no snapshot built for a closed channel').to.equal(0);
    // An agent started later (in the same worker, after a shutdown of the first: here without it) answers instead.
    const later = new Self(ch);
    start(newStore(), ch, later);
    self.disconnect();
    expect(ch.of('final')).to.deep.equal([]);
    later.destroy();
    expect(ch.of('final')).to.have.length(1);
    expect(other.calls).to.deep.equal(['disconnect after 1']);
    expect(self.calls).to.deep.equal(['destroy after 1', 'disconnect after 2']);
  });

  it("stop() puts the worker's methods back: its class's, or its own", async () => {
    const ch = new Channel();
    const self = new Self(ch);
    await start(newStore(), ch, self).stop();
    expect(Object.hasOwn(self, 'disconnect')).to.equal(false);
    expect(Object.hasOwn(self, 'destroy')).to.equal(false);
    const own = new Self(ch);
    const disconnect = function (this: Self) {
      return this;
    };
    Object.assign(own, { disconnect });
    await start(newStore(), ch, own).stop();
    expect(Object.hasOwn(own, 'disconnect')).to.equal(true);
    expect((own as unknown as { disconnect: unknown }).disconnect).to.equal(disconnect);
    expect(Object.hasOwn(own, 'destroy')).to.equal(false);
    // A method someone else replaced meanwhile is left as they set it; a missing one is not added.
    const replaced = new Self(ch);
    (replaced as unknown as { destroy: unknown }).destroy = undefined;
    const agent = start(newStore(), ch, replaced);
    expect((replaced as unknown as { destroy: unknown }).destroy).to.equal(undefined);
    const theirs = () => replaced;
    (replaced as unknown as { disconnect: unknown }).disconnect = theirs;
    await agent.stop();
    expect((replaced as unknown as { disconnect: unknown }).disconnect).to.equal(theirs);
    expect(ch.of('final')).to.have.length(3);
  });
});
