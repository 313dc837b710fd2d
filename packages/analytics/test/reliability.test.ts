import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Telemetry } from '@tuist-telemetry/core';
import { scrape, sum } from '@tuist-telemetry/testing';
import { createAnalytics, type AnalyticsOptions } from '@tuist-telemetry/analytics';
import { collectDiag, runFixture, closedPort, Ingestion, startLocal } from './helpers.js';

const DROPPED = 'tuist_analytics_events_dropped_total';
/**
 * Slack on top of shutdownTimeoutMs for the event loop and process start-up on a loaded machine; a bound, not a
 * speed target. What it guards against is far longer: a request left behind holds a process for its 20-30 s timeout.
 */
const SLACK_MS = 5000;

/** Timers keeping the event loop alive. */
function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('analytics: PostHog down or hanging', function () {
  let telemetry: Telemetry;
  const fast: AnalyticsOptions = {
    apiKey: 'phc_key',
    env: {},
    shutdownTimeoutMs: 1500,
    requestTimeoutMs: 400,
    fetchRetryDelayMs: 100,
  };

  before(async function () {
    telemetry = startLocal();
    await telemetry.ready();
  });
  after(async function () {
    await telemetry.shutdown();
  });

  async function dropped(reason: string): Promise<number> {
    return sum(await scrape(telemetry.url!), DROPPED, { reason });
  }

  it('refusing connections: calls do not throw, shutdown is bounded and counts what was not sent', async function () {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const before = await dropped('shutdown');
    const d = collectDiag();
    const analytics = createAnalytics({ ...fast, host, telemetry });
    for (let i = 0; i < 3; i++) analytics.capture({ event: 'e', section: 'marketing', distinctId: 'u' });
    const started = Date.now();
    await analytics.shutdown().finally(() => d.restore());
    expect(Date.now() - started).to.be.below(1500 + SLACK_MS);
    expect(await dropped('shutdown')).to.equal(before + 3);
    expect(
      d.messages.filter((m) => m.includes(`could not send events to ${host}`)),
      d.messages.join('\n'),
    ).to.have.length(1);
  });

  it('never answering: shutdown returns within shutdownTimeoutMs, aborts the request and counts the events', async function () {
    const ingestion = await Ingestion.start('hang');
    try {
      const before = await dropped('shutdown');
      const timersBefore = timers();
      const analytics = createAnalytics({ ...fast, host: ingestion.url, telemetry, requestTimeoutMs: 30_000 });
      for (let i = 0; i < 4; i++) analytics.capture({ event: 'e', section: 'dashboard', distinctId: 'u' });
      const started = Date.now();
      await analytics.shutdown();
      expect(Date.now() - started).to.be.below(1500 + SLACK_MS);
      expect(timers(), 'timers keeping the process alive').to.equal(timersBefore);
      expect(ingestion.requests.filter((r) => r.path === '/batch/').length).to.be.at.least(1);
      expect(await dropped('shutdown')).to.equal(before + 4);
    } finally {
      await ingestion.close();
    }
  });

  it('bounds the queue: the oldest events are dropped and counted as queue_full', async function () {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const beforeFull = await dropped('queue_full');
    const beforeShutdown = await dropped('shutdown');
    const analytics = createAnalytics({
      ...fast,
      host,
      telemetry,
      maxQueueSize: 5,
      flushAt: 5,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 12; i++) analytics.capture({ event: `e${i}`, section: 'marketing' });
    await analytics.shutdown();
    const full = (await dropped('queue_full')) - beforeFull;
    const atShutdown = (await dropped('shutdown')) - beforeShutdown;
    expect(full).to.equal(7);
    expect(atShutdown).to.equal(5);
  });

  it('counts batches PostHog refuses as rejected, with one diag warning instead of console.error', async function () {
    const ingestion = await Ingestion.start({ status: 400 });
    const diag = collectDiag();
    const consoleError = console.error;
    const printed: unknown[] = [];
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      const before = await dropped('rejected');
      const analytics = createAnalytics({ ...fast, host: ingestion.url, telemetry, flushAt: 2 });
      for (let i = 0; i < 4; i++) analytics.capture({ event: 'e', section: 'marketing' });
      // flushAt 2: two background sends, both refused.
      await new Promise((r) => setTimeout(r, 300));
      await analytics.shutdown();
      expect(await dropped('rejected')).to.equal(before + 4);
      expect(printed).to.deep.equal([]);
      const warnings = diag.messages.filter((m) => m.includes('could not send events'));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include('400');
    } finally {
      console.error = consoleError;
      diag.restore();
      await ingestion.close();
    }
  });

  for (const mode of ['refusing', 'hanging'] as const) {
    it(`a process with PostHog ${mode} exits on its own right after shutdown()`, async function () {
      const ingestion = mode === 'hanging' ? await Ingestion.start('hang') : undefined;
      try {
        const host = ingestion?.url ?? `http://127.0.0.1:${await closedPort()}`;
        const child = runFixture('shutdown.ts', {
          HOST: host,
          SHUTDOWN_TIMEOUT_MS: '1500',
          REQUEST_TIMEOUT_MS: '20000',
          FLUSH_INTERVAL_MS: '50',
          WAIT_BEFORE_SHUTDOWN_MS: '300',
        });
        const result = await child.exited;
        expect(result.code, result.stderr).to.equal(0);
        const { shutdownMs, endedAt } = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
          shutdownMs: number;
          endedAt: number;
        };
        expect(shutdownMs).to.be.below(1500 + SLACK_MS);
        // Nothing kept the process alive after shutdown(): a leftover request (20 s timeout) would show here.
        expect(result.exitedAt - endedAt).to.be.below(SLACK_MS);
        expect(result.stderr).not.to.match(/Error while flushing PostHog|PostHog/);
      } finally {
        await ingestion?.close();
      }
    });
  }

  it('flushes analytics on SIGTERM when telemetry is registered (@tuist-telemetry/core/register)', async function () {
    const ingestion = await Ingestion.start();
    try {
      const child = runFixture('sigterm.ts', {
        HOST: ingestion.url,
        OTEL_EXPORTER_PROMETHEUS_PORT: '0',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      });
      await child.waitForOutput('ready');
      expect(ingestion.events).to.have.length(0);
      child.kill('SIGTERM');
      const result = await child.exited;
      expect(result.signal, result.stderr).to.equal('SIGTERM');
      expect(ingestion.named('before_sigterm').map((e) => e.distinct_id)).to.deep.equal(['user-9']);
    } finally {
      await ingestion.close();
    }
  });

  it('writes nothing to disk: HOME and the working directory stay empty', async function () {
    const ingestion = await Ingestion.start();
    const home = mkdtempSync(join(tmpdir(), 'analytics-home-'));
    const cwd = mkdtempSync(join(tmpdir(), 'analytics-cwd-'));
    try {
      const child = runFixture(
        'no-disk.ts',
        { HOME: home, TUIST_POSTHOG_API_KEY: 'phc_key', TUIST_POSTHOG_URL: ingestion.url },
        cwd,
      );
      const result = await child.exited;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('done');
      expect(ingestion.events.map((e) => e.event)).to.include.members([
        '$identify',
        '$create_alias',
        '$groupidentify',
        'anon',
        '$pageview',
        'user_authenticate',
      ]);
      expect(readdirSync(home)).to.deep.equal([]);
      expect(readdirSync(cwd)).to.deep.equal([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
      await ingestion.close();
    }
  });
});
