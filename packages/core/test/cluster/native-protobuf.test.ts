import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { findPrometheus, requireService, startPrometheus, type PrometheusServer } from '@tuist-telemetry/testing';
import {
  startClusterApp,
  type ClusterApp,
  decodeFamilies,
  get,
  type PbFamily,
  PROMETHEUS_PROTOBUF_ACCEPT,
  PROTOBUF_TYPE,
} from '../helpers/index.js';

/*
 * A node:cluster primary with native histograms on (TUIST_TELEMETRY_NATIVE_HISTOGRAMS=true) asked for protobuf:
 * workers send classic buckets only (docs/endpoint.md), so the merged view serves classic histograms, never a family
 * (or a series) half native, and a real Prometheus with --enable-feature=native-histograms stores the right counts.
 */

const HIST = 'tuist_runs_duration_milliseconds';
/** Runs per process and name: worker 1, worker 2 and the primary itself, one name shared by all three. */
const RUNS = [
  ['1', 30, 'a'],
  ['2', 20, 'b'],
  ['primary', 7, 'p'],
  ['1', 4, 'shared'],
  ['2', 5, 'shared'],
  ['primary', 6, 'shared'],
] as const;
const expected: Record<string, number> = { a: 30, b: 20, p: 7, shared: 15 };

/** The runs histogram's series by `name`, after checking every histogram of the scrape is classic and consistent. */
function classicRuns(families: readonly PbFamily[]): Map<string, { count: number; sum: number; inf: number }> {
  const runs = new Map<string, { count: number; sum: number; inf: number }>();
  for (const f of families) {
    if (f.type !== 'HISTOGRAM') continue;
    for (const m of f.metric ?? []) {
      const h = m.histogram!;
      const labels = JSON.stringify(m.label ?? []);
      const what = `${f.name}${labels}`;
      // What makes Prometheus read a protobuf histogram as native: none of it, on no series.
      expect(
        {
          schema: h.schema,
          zeroThreshold: h.zeroThreshold,
          zeroCount: h.zeroCount,
          positive: h.positiveSpan?.length ?? 0,
          negative: h.negativeSpan?.length ?? 0,
        },
        what,
      ).to.deep.equal({ schema: undefined, zeroThreshold: undefined, zeroCount: undefined, positive: 0, negative: 0 });
      const buckets = h.bucket ?? [];
      expect(buckets.length, `${what}: classic buckets`).to.be.greaterThan(0);
      for (let i = 1; i < buckets.length; i++) {
        expect(buckets[i]!.upperBound!, what).to.be.greaterThan(buckets[i - 1]!.upperBound!);
        expect(buckets[i]!.cumulativeCount ?? 0, what).to.be.at.least(buckets[i - 1]!.cumulativeCount ?? 0);
      }
      const last = buckets.at(-1)!;
      const count = h.sampleCount ?? 0;
      if (last.upperBound === Infinity) expect(last.cumulativeCount ?? 0, `${what}: +Inf is the count`).to.equal(count);
      else expect(count, what).to.be.at.least(last.cumulativeCount ?? 0);
      const name = (m.label ?? []).find((l) => l.name === 'name')?.value;
      if (f.name === HIST && name !== undefined) runs.set(name, { count, sum: h.sampleSum ?? 0, inf: count });
    }
  }
  return runs;
}

describe('core: a node:cluster primary with native histograms on, asked for protobuf', function () {
  this.timeout(120_000);
  let app: ClusterApp | undefined;
  let prom: PrometheusServer | undefined;
  after(async () => {
    await prom?.stop();
    await app?.stop();
  });

  it('serves the workers and its own runs as classic histograms only (plain and gzip), and Prometheus stores the right counts', async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'apt-get install prometheus, or set PROMETHEUS_BIN',
    );
    app = await startClusterApp({ WORKERS: '2', TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' });
    for (const [who, n, name] of RUNS) {
      const recorded = app.waitFor(new RegExp(`RECORDED ${who} ${n}\\b`));
      app.command(`record ${who} ${n} ${name}`);
      await recorded;
    }
    // The workers' counts reach the primary with the scrape (it asks them): wait until all are there.
    let runs = new Map<string, { count: number; sum: number; inf: number }>();
    for (let i = 0; i < 50; i++) {
      for (const encoding of [{}, { 'Accept-Encoding': 'gzip' }] as Record<string, string>[]) {
        const r = await get(app.metricsUrl, { Accept: PROMETHEUS_PROTOBUF_ACCEPT, ...encoding });
        expect(r.status).to.equal(200);
        expect(r.headers['content-type']).to.equal(PROTOBUF_TYPE);
        runs = classicRuns(decodeFamilies(r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body));
      }
      if ([...runs].every(([name, s]) => s.count === expected[name]) && runs.size === 4) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(Object.fromEntries([...runs].map(([name, s]) => [name, s.count]))).to.deep.equal(expected);
    for (const [name, s] of runs) expect(s.sum, name).to.equal(expected[name]! * 5); // each run lasts 5 ms

    prom = await startPrometheus({
      targets: [new URL(app.metricsUrl).host],
      flags: ['--enable-feature=native-histograms'],
    });
    const stored = async (expr: string) =>
      Object.fromEntries((await prom!.vector(expr)).map((s) => [s.metric.name!, Number(s.value[1])]));
    let counts: Record<string, number> = {};
    for (let i = 0; i < 60 && Object.keys(counts).length < 4; i++) {
      await new Promise((r) => setTimeout(r, 250));
      counts = await stored(`${HIST}_count`);
    }
    expect(counts).to.deep.equal(expected);
    expect(await stored(`${HIST}_bucket{le="+Inf"}`)).to.deep.equal(expected);
    // Stored as classic series: no native histogram sample for the same name.
    expect(await stored(`histogram_count(${HIST})`)).to.deep.equal({});
  });
});
