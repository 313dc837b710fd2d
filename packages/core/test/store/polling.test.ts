import { expect } from 'chai';
import { mock } from 'node:test';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, value } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';

const flush = () => new Promise((r) => setImmediate(r));

describe('core: polled totals (projects, accounts)', () => {
  let t: Telemetry;
  beforeEach(async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await t.ready();
  });
  afterEach(async () => {
    mock.timers.reset();
    await t.shutdown();
  });

  it('polls at start, then every 10 minutes, never on a scrape', async () => {
    let calls = 0;
    t.metrics.observeProjectsTotal(() => ++calls * 10);
    await flush();
    expect(calls).to.equal(1);
    for (let i = 0; i < 5; i++) await scrape(t.url!);
    expect(calls, 'scrapes do not poll').to.equal(1);
    expect(value(await scrape(t.url!), 'tuist_projects_total')).to.equal(10);
    mock.timers.tick(9 * 60_000);
    await flush();
    expect(calls).to.equal(1);
    mock.timers.tick(60_000);
    await flush();
    expect(calls).to.equal(2);
    expect(value(await scrape(t.url!), 'tuist_projects_total')).to.equal(20);
    for (let i = 0; i < 2; i++) {
      mock.timers.tick(10 * 60_000);
      await flush();
    }
    expect(calls).to.equal(4);
  });

  it('keeps the previous value when the callback throws or rejects, and recovers', async () => {
    let mode: 'ok' | 'throw' | 'reject' | 'garbage' = 'ok';
    t.metrics.observeAccountsTotals(async () => {
      if (mode === 'throw') throw new Error('db down');
      if (mode === 'reject') return Promise.reject(new Error('timeout'));
      if (mode === 'garbage') return { users: NaN, organizations: 1 };
      return { users: 7, organizations: 3 };
    });
    await flush();
    await flush();
    const check = async (users: number, orgs: number) => {
      const exp = await scrape(t.url!);
      expect(value(exp, 'tuist_accounts_users_total')).to.equal(users);
      expect(value(exp, 'tuist_accounts_organizations_total')).to.equal(orgs);
    };
    await check(7, 3);
    const logged = captureDiag(diag);
    try {
      for (const m of ['throw', 'reject', 'garbage'] as const) {
        mode = m;
        mock.timers.tick(600_000);
        await flush();
        await flush();
        await check(7, 3);
      }
    } finally {
      logged.restore();
    }
    expect(logged.lines[0]).to.equal(
      'warn: @tuist-telemetry/core observeAccountsTotals: the callback failed (db down); the previous value is kept',
    );
    expect(
      logged.lines.every((l) => l.includes('observeAccountsTotals')),
      logged.lines.join('\n'),
    ).to.equal(true);
  });

  it('honours pollIntervalMs and stops polling on shutdown', async () => {
    await t.shutdown();
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, pollIntervalMs: 1000 });
    await t.ready();
    let calls = 0;
    t.metrics.observeProjectsTotal(() => ++calls);
    await flush();
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(1000);
      await flush();
    }
    expect(calls).to.equal(4);
    await t.shutdown();
    mock.timers.tick(10_000);
    await flush();
    expect(calls).to.equal(4);
  });
});
