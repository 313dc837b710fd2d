/**
 * The Grafana dashboards with native histograms (issue 21 item 6): the SDK serving them
 * (`TUIST_TELEMETRY_NATIVE_HISTOGRAMS=true`) to a real Prometheus 2.42 started with native histograms on (it
 * negotiates protobuf and stores the native histogram, not the classic buckets), and the histogram panels checked
 * against a known distribution in both kinds of series.
 */
import { expect } from 'chai';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { catalog, type MetricDefinition } from '@tuist-telemetry/core/internal';
import { histogram, type HistogramName } from '@tuist-telemetry/core/internal';
import {
  eventually,
  findPrometheus,
  requireService,
  startPrometheus,
  type PrometheusServer,
  type PromSeries,
} from '@tuist-telemetry/testing';
import {
  catalogEntryFor,
  dashboardQueries,
  histogramKindProblems,
  metricNamesIn,
  queriesWithoutData,
  readsHistograms,
  resolveVariables,
} from './dashboards.js';
import { startDemoProcess, type DemoProcess } from './demo-process.js';

const NATIVE = '--enable-feature=native-histograms';

function needPrometheus(ctx: Mocha.Context): void {
  requireService(
    ctx,
    'Prometheus',
    findPrometheus() !== undefined,
    'apt-get install prometheus, or set PROMETHEUS_BIN',
  );
}

describe('examples: the dashboards on the demo with native histograms, scraped by a real Prometheus with native histograms on', function () {
  this.timeout(120_000);
  let demo: DemoProcess | undefined;
  let prom: PrometheusServer | undefined;

  before(async function () {
    needPrometheus(this);
    demo = await startDemoProcess({
      args: ['--load-interval-ms', '50'],
      env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' },
    });
    prom = await startPrometheus({ targets: [`127.0.0.1:${demo.metricsPort!}`], flags: [NATIVE] });
  });
  after(async () => {
    await prom?.stop();
    await demo?.stop();
  });

  it('Prometheus stores the histograms as native series only (no _bucket series), so classic queries alone would be empty', async () => {
    await eventually(
      'a native run duration histogram',
      async () =>
        (await prom!.vector('histogram_count(tuist_runs_duration_milliseconds)')).length > 0 ? true : undefined,
      30_000,
    );
    expect(await prom!.vector('{__name__=~".+_bucket"}')).to.deep.equal([]);
  });

  for (const kind of ['auto', 'native'] as const) {
    it(`every expression in every dashboard is accepted by Prometheus and returns data (Histograms: ${kind})`, async () => {
      const { rejected, empty } = await queriesWithoutData(prom!, kind);
      expect(rejected, 'expressions Prometheus rejected').to.deep.equal([]);
      expect(empty, 'expressions without data').to.deep.equal([]);
    });
  }

  it('native histograms: the histogram panels give with Histograms auto what they give with native, and nothing with classic', async () => {
    expect(await histogramKindProblems(prom!, 'native')).to.deep.equal([]);
  });
});

// A known distribution in every histogram a dashboard charts: N values spread geometrically over its classic
// buckets. N = 201 puts q*N (100.5, 190.95) between two ranks, so float rounding of the rates cannot move the rank.
const N = 201;
const ZOOM = 2 ** 18; // the span of the values: at schema 3 at most 144 native buckets, below the 160 that would reduce it
const NATIVE_BASE = 2 ** (1 / 8); // schema 3 (bucket factor 1.1): a native bucket spans this factor

function distribution(def: MetricDefinition): number[] {
  const b = def.buckets!;
  const hi = b[b.length - 1]! * 0.9;
  const lo = Math.max(b[0]! / 2, hi / ZOOM);
  return Array.from({ length: N }, (_, i) => lo * (hi / lo) ** (i / (N - 1)));
}

/** The catalog histograms the dashboards' histogram expressions read. */
function chartedHistograms(): MetricDefinition[] {
  const defs = new Map<string, MetricDefinition>();
  for (const q of dashboardQueries().filter((x) => readsHistograms(x.expr)))
    for (const n of metricNamesIn(q.expr)) {
      const def = catalogEntryFor(n, catalog);
      if (def?.type === 'histogram') defs.set(def.name, def);
    }
  return [...defs.values()];
}

/** The one series of the recorded group: every label the panel keeps is `x` (runtime metrics add real GC kinds). */
const only = (v: PromSeries[], what: string): number => {
  const ours = v.filter((s) => Object.values(s.metric).every((l) => l === 'x'));
  expect(ours, what).to.have.length(1);
  return Number(ours[0]!.value[1]);
};

describe("examples: the dashboards' histogram panels return the quantiles, means and rates of a known distribution, classic and native", function () {
  this.timeout(120_000);
  let t: Telemetry | undefined;
  const proms: PrometheusServer[] = [];
  after(async () => {
    for (const p of proms) await p.stop();
    await t?.shutdown();
  });

  it('each panel, in a Prometheus storing classic series and in one storing native series, is within the bucket of the true value', async function () {
    needPrometheus(this);
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      // Runtime metrics on: nodejs_gc_duration_seconds exists only then (its panel groups by kind; ours is `x`).
      runtimeMetrics: true,
      setGlobalMeterProvider: false,
      env: { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' },
    });
    await t.ready();
    const defs = chartedHistograms();
    expect(defs.length, 'histograms the dashboards chart').to.be.greaterThan(20);
    // The distribution is recorded once before the first scrape and once more after it: every bucket, sum and count
    // (and the reference counter, N per phase) doubles between the first and last sample, so `rate()` scales them
    // all by the same factor and quantiles, means and ratios are those of the distribution.
    const recordAll = () => {
      for (const def of defs) {
        const family = histogram(t!, def.name as HistogramName);
        const labels = Object.fromEntries((def.labels ?? []).map((l) => [l, 'x']));
        for (const v of distribution(def)) family.record(v, labels);
      }
      t!.metrics.recordCacheUpload(N);
    };
    recordAll();
    const target = [`127.0.0.1:${t.port}`];
    const native = await startPrometheus({ targets: target, flags: [NATIVE] });
    proms.push(native);
    const classic = await startPrometheus({ targets: target });
    proms.push(classic);
    const stored = (n: number) => async () => {
      const a = await native.vector('tuist_cache_uploaded_bytes');
      const b = await classic.vector('tuist_cache_uploaded_bytes');
      return a.length === 1 && b.length === 1 && Number(a[0]!.value[1]) === n && Number(b[0]!.value[1]) === n
        ? true
        : undefined;
    };
    await eventually('the first phase stored by both', stored(N), 30_000, 250);
    recordAll();
    await eventually('the second phase stored by both', stored(2 * N), 30_000, 250);
    expect(await native.vector('{__name__=~".+_bucket"}'), 'classic buckets in the native Prometheus').to.have.length(
      0,
    );
    expect(
      await classic.vector(`histogram_count(${defs[0]!.name})`),
      'native series in the classic one',
    ).to.have.length(0);

    const time = Date.now() / 1000;
    const problems: string[] = [];
    let checked = 0;
    const queries = dashboardQueries().filter((q) => readsHistograms(q.expr));
    for (const [prom, kind] of [
      [native, 'native'],
      [classic, 'classic'],
    ] as const) {
      const reference = only(await prom.vector('sum(rate(tuist_cache_uploaded_bytes[5m]))', time), 'reference rate');
      for (const q of queries) {
        const what = `${kind}: ${q.dashboard} / ${q.panel}`;
        const def = catalogEntryFor(metricNamesIn(q.expr)[0]!, catalog)!;
        const values = distribution(def);
        const mean = values.reduce((a, b) => a + b, 0) / N;
        const got = only(await prom.vector(resolveVariables(q.expr, '5m', kind), time), what);
        const quantile = /histogram_quantile\(([\d.]+),/.exec(q.expr);
        let expected: [number, number];
        if (quantile) {
          // The true q-quantile is the ceil(q*N)-th value; an estimate lies in the bucket that holds it.
          const v = values[Math.ceil(Number(quantile[1]) * N) - 1]!;
          if (kind === 'native') expected = [v / NATIVE_BASE, v * NATIVE_BASE];
          else {
            const i = def.buckets!.findIndex((b) => v <= b);
            expected = [i === 0 ? 0 : def.buckets![i - 1]!, def.buckets![i]!];
          }
        } else if (/_sum\{.*\/.*_count\{/.test(q.expr)) expected = [mean, mean];
        else if (/_count\{/.test(q.expr)) expected = [reference, reference];
        else if (/_sum\{/.test(q.expr)) expected = [reference * mean, reference * mean];
        else {
          problems.push(`${what}: no check for ${q.expr}`);
          continue;
        }
        const slack = 1e-9 * Math.abs(expected[1]);
        if (!(got >= expected[0] - slack && got <= expected[1] + slack))
          problems.push(`${what}: ${got}, expected ${expected[0]}..${expected[1]}`);
        checked++;
      }
    }
    expect(problems).to.deep.equal([]);
    expect(checked).to.equal(2 * queries.length);
  });
});
