import { expect } from 'chai';
import { startPrometheus, type PrometheusServer } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { textSamples, requirePrometheus, startReady } from '../helpers/index.js';

/** `name{a="x",…}` with sorted labels, as helpers/protobuf.ts keys series. */
function key(metric: Record<string, string>): string {
  const { __name__: name, job: _job, instance: _instance, ...labels } = metric;
  const sorted = Object.entries(labels)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return name + '{' + sorted.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',') + '}';
}

/**
 * A bound as Prometheus' protobuf parser spells it: Go's shortest `%g` (exponent from 1e6 and below 1e-4, at least two
 * exponent digits), with `.0` added to a whole number.
 */
function goFloat(le: string): string {
  if (le === '+Inf') return le;
  const v = Number(le);
  const [mantissa, exp] = v.toExponential().split('e') as [string, string];
  const e = Number(exp);
  let out = e < -4 || e >= 6 ? `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}` : String(v);
  if (!/[.e]/.test(out)) out += '.0';
  return out;
}

/** The metadata type Prometheus keeps for a metric (what the scrape's TYPE said). */
async function metadataType(prom: PrometheusServer, metric: string): Promise<string | undefined> {
  const res = await fetch(`${prom.url}/api/v1/metadata?metric=${metric}`);
  const body = (await res.json()) as { data: Record<string, { type: string }[]> };
  return body.data[metric]?.[0]?.type;
}

describe('core: a real Prometheus 2.42 with --enable-feature=native-histograms scrapes protobuf (issue 21 item 1)', function () {
  this.timeout(120_000);
  let t: Telemetry | undefined;
  let prom: PrometheusServer | undefined;
  after(async () => {
    await prom?.stop();
    await t?.shutdown();
  });

  it('stores exactly the series and values of the text scrape', async function () {
    requirePrometheus(this);
    t = await startReady();
    t.metrics.recordCacheUpload(1234);
    for (let i = 0; i < 50; i++)
      t.metrics.recordRun({ name: `run-${i % 3}`, isCi: i % 2 === 0, status: 0, durationMs: i * 41.5 });
    const meter = t.meterProvider.getMeter('lib');
    meter.createCounter('lib.requests').add(3, { 'http.route': '/a' });
    meter.createUpDownCounter('lib.queue').add(-4);
    const h = meter.createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10] } });
    for (const v of [0.5, 5, 50]) h.record(v);

    prom = await startPrometheus({ targets: [`127.0.0.1:${t.port}`], flags: ['--enable-feature=native-histograms'] });
    // Protobuf was negotiated: Prometheus keeps the counter type of a documented counter without `_total`, which
    // OpenMetrics can only serve untyped (`unknown`).
    let type: string | undefined;
    for (let i = 0; i < 40 && type === undefined; i++) {
      type = await metadataType(prom, 'tuist_cache_uploaded_bytes');
      if (type === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    expect(type).to.equal('counter');

    // Prometheus writes the `le` of a protobuf bucket from its double, as an OpenMetrics float (`100.0`, `1.6384e+06`;
    // Prometheus 3 does so for every format): the one label value that differs from the text scrape's.
    const text = new Map(
      [...textSamples(await (await fetch(t.url!, { headers: { Accept: 'text/plain' } })).text()).samples].map(
        ([k, v]) => [k.replace(/le="([^"]+)"/, (_, le: string) => `le="${goFloat(le)}"`), v],
      ),
    );
    let stored = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const v = await prom.vector('{job="tuist", __name__!~"up|scrape_.*"}');
      stored = new Map(v.map((s) => [key(s.metric), Number(s.value[1])]));
      if (stored.size >= text.size) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const diff = [...text]
      .filter(([k, v]) => stored.get(k) !== v)
      .map(([k, v]) => `${k}: text ${v}, stored ${stored.get(k)}`);
    expect(diff.join('\n')).to.equal('');
    expect([...stored.keys()].sort()).to.deep.equal([...text.keys()].sort());
    expect(stored.get('tuist_cache_uploaded_bytes{}')).to.equal(1234);
    expect(stored.get('lib_latency_bucket{le="+Inf"}')).to.equal(3);
  });
});
