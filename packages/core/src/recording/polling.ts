import { describeError, type RateLimitedLogger } from '../diag/index.js';

interface Job {
  name: string;
  fn: () => unknown;
  apply: (value: unknown) => void;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Polled values (projects and accounts totals): run once at registration, then every `intervalMs`, never on a
 * scrape. Timers are unref'd so they never keep the host alive; a run still pending is not started twice.
 */
export class Poller {
  private readonly jobs = new Set<Job>();
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly warn: RateLimitedLogger,
  ) {}

  add(name: string, fn: () => unknown, apply: (value: unknown) => void): () => void {
    if (typeof fn !== 'function') {
      this.warn.warn(`poll-fn:${name}`, `${name}: expected a function; nothing will be polled`);
      return () => {};
    }
    const job: Job = { name, fn, apply, running: false, timer: undefined };
    if (this.stopped) return () => {};
    this.jobs.add(job);
    void this.run(job);
    job.timer = setInterval(() => void this.run(job), this.intervalMs);
    job.timer.unref?.();
    return () => this.remove(job);
  }

  /** Runs every job now (e.g. for tests or after a known change); resolves when all have settled. */
  async pollNow(): Promise<void> {
    await Promise.all([...this.jobs].map((j) => this.run(j)));
  }

  private remove(job: Job): void {
    if (job.timer) clearInterval(job.timer);
    this.jobs.delete(job);
  }

  private async run(job: Job): Promise<void> {
    if (job.running) return;
    job.running = true;
    try {
      const value = await job.fn();
      if (!this.stopped) job.apply(value);
    } catch (err) {
      this.warn.warn(
        `poll-failed:${job.name}`,
        `${job.name}: the callback failed (${describeError(err)}); the previous value is kept`,
      );
    } finally {
      job.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs) this.remove(j);
  }
}
