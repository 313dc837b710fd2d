// The worker side of node:cluster (ClusterWorkerAgent) in this process: its `proc` is one end of an in-process channel
// (helpers/cluster-channel.ts) to a primary side made of the real WorkerSnapshots and ClusterView, so what the agent
// sends is what gets served.
import { expect } from 'chai';
import { RateLimitedLogger, type MetricStore } from '@tuist-telemetry/core/internal';
import { ClusterWorkerAgent } from '../../src/cluster/worker.js';
import type { Snapshot } from '../../src/cluster/protocol.js';
import {
  AGENT_RUN as run,
  Channel,
  KindsKept,
  OURS as ours,
  PrimarySide as Primary,
  keepingLogger,
  newStore,
  refTimers,
} from '../helpers/index.js';

describe('core: node:cluster worker agent (in-process channel)', () => {
  const agents: ClusterWorkerAgent[] = [];
  const lines: string[] = [];
  const kinds: string[] = [];
  const warnings = () => new KindsKept(keepingLogger(lines).logger, kinds);
  const start = (store: MetricStore, ch: Channel, welcomeMs?: number, finalMs?: number) => {
    const a = new ClusterWorkerAgent(store, warnings(), ch.proc, undefined, welcomeMs, finalMs);
    agents.push(a);
    return a;
  };
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    lines.length = 0;
    kinds.length = 0;
  });

  for (const advanced of [false, true])
    it(`says hello, answers collect requests with snapshots the primary serves (${advanced ? 'advanced' : 'JSON'})`, () => {
      const ch = new Channel(advanced);
      const store = newStore();
      start(store, ch);
      const [hello] = ch.got;
      expect(hello).to.deep.include({ ...ours, type: 'hello' });
      const incarnation = (hello as { incarnation: string }).incarnation;
      expect(incarnation).to.be.a('string').with.length.greaterThan(10);
      const primary = new Primary();
      store.counter('tuist_runs_total').add(3, run);
      ch.tell({ ...ours, type: 'collect', req: 7, known: 0 });
      const first = ch.got[1] as Snapshot;
      expect(first).to.deep.include({ type: 'snapshot', req: 7, incarnation });
      expect(typeof first.data).to.equal(advanced ? 'object' : 'string');
      primary.take(first);
      expect(primary.runs()).to.equal(3);
      // Known series travel as values only.
      store.counter('tuist_runs_total').add(2, run);
      ch.tell({ ...ours, type: 'collect', req: 8, known: primary.snaps.known });
      const second = ch.got[2] as Snapshot;
      expect(second.defs).to.deep.equal([]);
      primary.take(second);
      expect(primary.runs()).to.equal(5);
      expect(lines).to.deep.equal([]);
    });

  it('a probe gets the same hello again; messages not of the protocol, and welcomes, get no answer', () => {
    const ch = new Channel();
    start(newStore(), ch);
    ch.tell({ type: 'collect', req: 1, known: 0 });
    ch.tell({ tuistTelemetry: 'other', type: 'probe' });
    ch.tell({ ...ours, type: 'welcome' });
    expect(ch.got).to.have.length(1);
    ch.tell({ ...ours, type: 'probe' });
    expect(ch.got.map((m) => m.type)).to.deep.equal(['hello', 'hello']);
    expect(ch.got[1]).to.deep.equal(ch.got[0]);
  });

  it('a request with a bad `known` is answered with every series described, a bad `req` as -1', () => {
    const ch = new Channel();
    const store = newStore();
    store.counter('tuist_runs_total').add(1, run);
    start(store, ch);
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    const full = (ch.got[1] as Snapshot).defs;
    expect(full).to.not.deep.equal([]);
    for (const known of [-1, 1.5, 'x', null]) {
      ch.tell({ ...ours, type: 'collect', req: 'r', known });
      const s = ch.got.at(-1) as Snapshot;
      expect([s.req, s.defs], String(known)).to.deep.equal([-1, full]);
    }
    ch.tell({ ...ours, type: 'collect', req: 2, known: (ch.got[1] as Snapshot).next });
    expect((ch.got.at(-1) as Snapshot).defs).to.deep.equal([]);
  });

  it('stop() sends one final snapshot described past the highest `known` asked, then answers nothing', async () => {
    const ch = new Channel();
    const store = newStore();
    const agent = start(store, ch);
    const primary = new Primary();
    store.counter('tuist_runs_total').add(4, run);
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    primary.take(ch.got[1]!);
    ch.tell({ ...ours, type: 'collect', req: 2, known: primary.snaps.known });
    // A request with a lower `known` (sent earlier, read later) does not lower what the final snapshot assumes.
    ch.tell({ ...ours, type: 'collect', req: 3, known: 0 });
    store.counter('tuist_runs_total').add(6, run);
    await agent.stop();
    await agent.stop();
    const finals = ch.of('final') as Snapshot[];
    expect(finals).to.have.length(1);
    // Marked last: the primary asks this worker nothing more, even should its process live on.
    expect(finals[0]).to.deep.include({ req: -1, last: true });
    expect(finals[0]!.defs).to.deep.equal([]);
    primary.take(finals[0]!);
    expect(primary.runs()).to.equal(10);
    const sent = ch.got.length;
    ch.tell({ ...ours, type: 'collect', req: 3, known: 0 });
    ch.tell({ ...ours, type: 'probe' });
    expect(ch.got).to.have.length(sent);
    expect(ch.listenerCount('message')).to.equal(0);
  });

  it('pending counts (the request counters of the instrumentations) travel in each snapshot and in the final one', async () => {
    const ch = new Channel();
    const store = newStore();
    const agent = start(store, ch);
    const primary = new Primary();
    const count = store.pendingCounts.of(store.counter('tuist_runs_total'), Object.freeze({ ...run }));
    count.inc();
    count.inc();
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    primary.take(ch.got[1]!);
    expect(primary.runs()).to.equal(2);
    count.inc();
    await agent.stop();
    primary.take((ch.of('final') as Snapshot[])[0]!);
    expect(primary.runs()).to.equal(3);
  });

  it('stop() waits for the final snapshot to be written, at most its bound', async () => {
    const ch = new Channel();
    ch.stuck = true;
    const agent = start(newStore(), ch, undefined, 30);
    await agent.stop();
    expect(ch.of('final')).to.have.length(1);
  });

  it('with the channel closed or without `send`, nothing is sent and stop() returns', async () => {
    const closed = new Channel();
    closed.connected = false;
    await start(newStore(), closed).stop();
    expect(closed.got).to.deep.equal([]);
    const noSend = new Channel();
    (noSend as unknown as { send: unknown }).send = undefined;
    await start(newStore(), noSend).stop();
    expect(lines).to.deep.equal([]);
  });

  it('a send that throws is warned about, not thrown; stop() still returns', async () => {
    const ch = new Channel();
    ch.send = () => {
      throw new Error('channel closed');
    };
    const agent = start(newStore(), ch);
    await agent.stop();
    expect(lines).to.deep.equal([
      '@tuist-telemetry/core: could not send to the cluster primary (Error: channel closed)',
    ]);
    expect(kinds, 'the hello and the final snapshot').to.deep.equal(['cluster-send', 'cluster-send']);
  });

  it('a snapshot that cannot be built is reported as an error and not sent; stop() still returns', async () => {
    const ch = new Channel();
    const broken = {
      runCollectCallbacks() {},
      get families(): never {
        throw new Error('no families');
      },
    } as unknown as MetricStore;
    const agent = start(broken, ch);
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    await agent.stop();
    expect(ch.got.map((m) => m.type)).to.deep.equal(['hello']);
    expect(lines).to.deep.equal([
      '@tuist-telemetry/core: could not build a snapshot for the cluster primary no families',
    ]);
    expect(kinds, 'the answer and the final snapshot').to.deep.equal(['cluster-encode', 'cluster-encode']);
  });

  it('runs the collection callbacks before each snapshot', () => {
    const ch = new Channel();
    const store = newStore();
    store.onCollect(() => store.counter('tuist_runs_total').add(1, run));
    start(store, ch);
    const primary = new Primary();
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    primary.take(ch.got[1]!);
    expect(primary.runs()).to.equal(1);
  });

  it('only the agent started last answers; each is its own incarnation', async () => {
    const ch = new Channel();
    const old = start(newStore(), ch);
    const store = newStore();
    start(store, ch);
    const [a, b] = ch.of('hello') as { incarnation: string }[];
    expect(a!.incarnation).to.not.equal(b!.incarnation);
    ch.tell({ ...ours, type: 'collect', req: 1, known: 0 });
    ch.tell({ ...ours, type: 'probe' });
    expect(ch.got.slice(2).map((m) => [m.type, (m as { incarnation?: string }).incarnation])).to.deep.equal([
      ['snapshot', b!.incarnation],
      ['hello', b!.incarnation],
    ]);
    // The earlier one sends no final snapshot either (its series ids are not the ones the primary knows now).
    await old.stop();
    expect(ch.of('final')).to.deep.equal([]);
  });

  it('warns that nobody serves its metrics when no welcome or collect came within the bound (a probe is no welcome)', async () => {
    const ch = new Channel();
    start(newStore(), ch, 10);
    ch.tell({ ...ours, type: 'probe' });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(lines).to.deep.equal([
      '@tuist-telemetry/core: this node:cluster worker binds no metrics port, and its primary has not started ' +
        'telemetry, so nobody serves its metrics: call startTelemetry() in the primary too (same settings), or set ' +
        'TUIST_TELEMETRY_CLUSTER=off and give every worker its own OTEL_EXPORTER_PROMETHEUS_PORT',
    ]);
    expect(kinds).to.deep.equal(['cluster-no-primary']);
  });

  for (const answer of ['welcome', 'collect'])
    it(`a ${answer} ends the wait for the primary: no warning`, async () => {
      // Timers of one duration fire in the order they were set: once the later agent warned, the first one's bound
      // has passed too.
      const quiet: string[] = [];
      const first = new Channel();
      agents.push(
        new ClusterWorkerAgent(
          newStore(),
          new RateLimitedLogger(keepingLogger(quiet).logger),
          first.proc,
          undefined,
          20,
        ),
      );
      first.tell({ ...ours, type: answer, req: 1, known: 0 });
      start(newStore(), new Channel(), 20);
      while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
      expect(quiet).to.deep.equal([]);
    });

  it('its timers (the wait for the welcome, the bound on the final send) keep no process alive', async () => {
    const before = refTimers();
    const ch = new Channel();
    ch.stuck = true;
    const agent = start(newStore(), ch, 60_000, 50);
    expect(refTimers()).to.equal(before);
    const stopping = agent.stop();
    expect(refTimers()).to.equal(before);
    await stopping;
  });

  it('stop() ends the wait for the primary too', async () => {
    const quiet: string[] = [];
    const first = new ClusterWorkerAgent(
      newStore(),
      new RateLimitedLogger(keepingLogger(quiet).logger),
      new Channel().proc,
      undefined,
      20,
    );
    await first.stop();
    start(newStore(), new Channel(), 20);
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(quiet).to.deep.equal([]);
  });
});
