import { expect } from 'chai';
import {
  eventually,
  findPrometheus,
  requireService,
  scrape,
  startPostgres,
  startPrometheus,
  startS3Server,
  sum,
  type Postgres,
  type PrometheusServer,
  type S3Server,
} from '@tuist-telemetry/testing';
import { startDemoProcess, type DemoProcess } from './demo-process.js';

/** Runs each instance records: instance i reports RUNS[i] runs (the same label sets on every instance). */
const RUNS = [3, 5, 7];

async function postRun(
  base: string,
  run: { name: string; is_ci: boolean; status: 0 | 1; duration_ms: number },
): Promise<void> {
  const res = await fetch(`${base}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(run),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`POST /api/runs answered ${res.status}`);
}

describe('examples: three demo instances, one Prometheus scraping all of them', function () {
  this.timeout(150_000);
  let s3: S3Server | undefined;
  let pg: Postgres | undefined;
  let instances: DemoProcess[] = [];
  let prom: PrometheusServer | undefined;

  before(async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'apt-get install prometheus, or set PROMETHEUS_BIN',
    );
    // One storage and one database shared by the fleet, as in production.
    [s3, pg] = await Promise.all([
      startS3Server({ from: import.meta.url, buckets: ['tuist'] }),
      startPostgres({ from: import.meta.url }),
    ]);
    const env = {
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      DATABASE_URL: pg.url,
    };
    instances = await Promise.all(RUNS.map(() => startDemoProcess({ args: ['--no-load'], env })));
    prom = await startPrometheus({
      targets: instances.map((d) => `127.0.0.1:${d.metricsPort!}`),
      scrapeIntervalSeconds: 1,
    });

    await Promise.all(
      instances.map(async (d, i) => {
        for (let n = 0; n < RUNS[i]!; n++) {
          // Every instance records the same label set first, then instance-specific ones.
          await postRun(
            d.url,
            n === 0
              ? { name: 'build', is_ci: true, status: 0, duration_ms: 1200 }
              : {
                  name: n % 2 ? 'test' : 'generate',
                  is_ci: n % 3 === 0,
                  status: n === 4 ? 1 : 0,
                  duration_ms: 100 * n,
                },
          );
        }
      }),
    );
  });
  after(async () => {
    await prom?.stop();
    await Promise.all(instances.map((d) => d.stop()));
    await Promise.all([s3?.stop(), pg?.stop()]);
  });

  it('each instance serves exactly the runs it recorded on its own /metrics', async () => {
    const own = await Promise.all(instances.map(async (d) => sum(await scrape(d.metricsUrl!), 'tuist_runs_total')));
    expect(own).to.deep.equal(RUNS);
  });

  it('sum(tuist_runs_total) in Prometheus equals the total the three instances recorded', async () => {
    const total = RUNS.reduce((a, b) => a + b, 0);
    const value = async () => Number((await prom!.vector('sum(tuist_runs_total)'))[0]?.value[1] ?? NaN);
    await eventually(
      'Prometheus has scraped every run',
      async () => ((await value()) === total ? true : undefined),
      30_000,
    ).catch(() => undefined);
    expect(await value()).to.equal(total);
  });

  it('per-instance series stay apart by the instance label', async () => {
    const byInstance = await prom!.vector('sum by (instance) (tuist_runs_total)');
    const got = Object.fromEntries(byInstance.map((s) => [s.metric.instance, Number(s.value[1])]));
    const want = Object.fromEntries(instances.map((d, i) => [`127.0.0.1:${d.metricsPort!}`, RUNS[i]]));
    expect(got).to.deep.equal(want);
    // The same label set recorded on three instances is three series, not one.
    const same = await prom!.vector('tuist_runs_total{name="build",is_ci="true",status="0"}');
    expect(same.map((s) => s.metric.instance).sort()).to.deep.equal(Object.keys(want).sort());
    expect(same.every((s) => s.value[1] === '1')).to.equal(true);
    expect(Number((await prom!.vector('count(tuist_application_info)'))[0]!.value[1])).to.equal(3);
  });

  it('totals polled from the shared database are the same on every instance (charted with max, not sum)', async () => {
    const projects = await prom!.vector('tuist_projects_total');
    expect(projects).to.have.length(3);
    const values = new Set(projects.map((s) => s.value[1]));
    expect(values.size).to.equal(1);
    expect(Number([...values][0])).to.be.greaterThan(0);
    const max = Number((await prom!.vector('max(tuist_projects_total)'))[0]!.value[1]);
    const summed = Number((await prom!.vector('sum(tuist_projects_total)'))[0]!.value[1]);
    expect(summed).to.equal(3 * max);
  });
});
