// The exemplar side of recording, in-process: whether a span can be active at all (OpenTelemetry's API globals), and
// the coarse clock of exemplar timestamps, one unref'd timer that runs only while exemplars are being kept.
import { expect } from 'chai';
import { createHook } from 'node:async_hooks';
import { context, type ContextManager } from '@opentelemetry/api';
import { tracingPossible } from '../../src/store/exemplars.js';
import { contextManagerOf, newStore, sampledContext } from '../helpers/index.js';

const METRIC = 'tuist_runs_duration_milliseconds';
const LABELS = { name: 'build', is_ci: 'false', status: '0' };
const API_KEY = Symbol.for('opentelemetry.js.api.1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A context manager whose active context always holds a sampled span (what a server inside a request has). */
function sampledManager(): ContextManager {
  const active = sampledContext();
  return contextManagerOf(() => active);
}

describe('core: whether a span can be active (the exemplar fast path, issue 26)', () => {
  const g = globalThis as { [API_KEY]?: unknown };
  let saved: unknown;
  beforeEach(() => {
    saved = g[API_KEY];
  });
  afterEach(() => {
    g[API_KEY] = saved;
    context.disable();
  });

  it('no API globals yet (nothing registered in the process): false, and recording neither throws nor keeps an exemplar', () => {
    const store = newStore();
    delete g[API_KEY];
    expect(tracingPossible()).to.equal(false);
    store.histogram(METRIC).record(150, LABELS);
    g[API_KEY] = saved;
    const s = [...store.histogram(METRIC).series][0]!;
    expect([s.count, s.exemplars]).to.deep.equal([1, undefined]);
  });

  it('API globals without a context manager (a diag logger only): false; with one registered: true', () => {
    g[API_KEY] = { version: '1.9.0' };
    expect(tracingPossible()).to.equal(false);
    g[API_KEY] = saved;
    context.disable();
    expect(tracingPossible(), 'after context.disable()').to.equal(false);
    context.setGlobalContextManager(sampledManager());
    expect(tracingPossible()).to.equal(true);
  });
});

describe('core: the exemplar clock runs only while exemplars are kept (issue 26)', () => {
  afterEach(() => context.disable());

  it("one unref'd timer, kept while every turn of the event loop records, stopped once recording stops", async function () {
    this.timeout(30_000);
    context.setGlobalContextManager(sampledManager());
    const h = newStore().histogram(METRIC);
    // The timers the exemplar clock creates: the Timeout resources initialised inside a record call.
    let recording = false;
    const created = new Map<number, { hasRef(): boolean }>();
    const destroyed = new Set<number>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (recording && type === 'Timeout') created.set(id, resource as { hasRef(): boolean });
      },
      destroy(id) {
        destroyed.add(id);
      },
    }).enable();
    const record = () => {
      recording = true;
      try {
        h.record(150, LABELS);
      } finally {
        recording = false;
      }
    };
    try {
      // An earlier suite may have left the clock running: it stops within two of its ticks without exemplars, then
      // the next exemplar starts it (a bounded wait: a clock that never stops fails here).
      for (let tries = 0; created.size === 0 && tries < 40; tries++) {
        await sleep(300);
        record();
      }
      expect(created.size, 'the first exemplar after a pause starts the clock').to.equal(1);
      const [[id, timer]] = [...created];
      expect(timer.hasRef(), 'the clock keeps no process alive').to.equal(false);
      // Recording on every turn of the event loop (between any two ticks of the clock) for three ticks and more.
      const until = performance.now() + 800;
      while (performance.now() < until) {
        record();
        await new Promise((r) => setImmediate(r));
      }
      expect(created.size, 'one timer while exemplars keep coming').to.equal(1);
      expect(destroyed.has(id!), 'not stopped while exemplars keep coming').to.equal(false);
      // No more exemplars: the clock stops at its second tick (a bounded wait, no timing asserted).
      for (let tries = 0; !destroyed.has(id!) && tries < 100; tries++) await sleep(100);
      expect(destroyed.has(id!), 'stopped once no exemplar came for a tick').to.equal(true);
      expect(created.size).to.equal(1);
      expect([...h.series][0]!.exemplars!.some((e) => e !== undefined)).to.equal(true);
    } finally {
      hook.disable();
    }
  });
});
