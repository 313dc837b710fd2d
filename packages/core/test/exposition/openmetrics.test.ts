import { expect } from 'chai';
import { startPrometheus } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { negotiateFormat, textToOpenMetrics } from '../../src/prometheus/format.js';
import { expectPromtoolParses, requirePrometheus, startReady, PROMETHEUS_ACCEPT } from '../helpers/index.js';

const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** The sample names of an exposition (what PromQL sees), sorted and unique. */
function sampleNames(body: string): string[] {
  const names = new Set<string>();
  for (const line of body.split('\n')) if (line !== '' && !line.startsWith('#')) names.add(/^[^{ ]+/.exec(line)![0]);
  return [...names].sort();
}

async function scrapeWith(url: string, accept: string): Promise<{ type: string | null; body: string }> {
  const res = await fetch(url, { headers: { Accept: accept } });
  expect(res.status).to.equal(200);
  return { type: res.headers.get('content-type'), body: await res.text() };
}

describe('core: OpenMetrics negotiation', () => {
  let t: Telemetry;
  before(async () => {
    t = await startReady();
    t.metrics.recordCacheUpload(1234);
    t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
    const meter = t.meterProvider.getMeter('lib');
    meter.createCounter('lib.requests', { unit: 'By', description: 'Requests "served"' }).add(3);
    meter.createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10] } }).record(5);
  });
  after(() => t.shutdown());

  it('chooses the format from Accept; anything it does not serve gets text 0.0.4', () => {
    expect(negotiateFormat(PROMETHEUS_ACCEPT)).to.equal('openmetrics');
    expect(negotiateFormat('application/openmetrics-text')).to.equal('openmetrics');
    expect(negotiateFormat(undefined)).to.equal('text');
    expect(negotiateFormat('*/*')).to.equal('text');
    expect(negotiateFormat('text/plain;version=0.0.4')).to.equal('text');
    expect(negotiateFormat('application/json')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;version=2.0.0')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;q=0')).to.equal('text');
    expect(negotiateFormat('text/plain;q=1, application/openmetrics-text;q=0.5')).to.equal('text');
  });

  it('serves OpenMetrics 1.0 with # EOF, counters by family, suffix-less documented counters untyped (unknown)', async () => {
    const { type, body } = await scrapeWith(t.url!, PROMETHEUS_ACCEPT);
    expect(type).to.equal(OM);
    expect(body.endsWith('# EOF\n')).to.equal(true);
    expect(body.match(/# EOF/g)).to.have.length(1);
    expect(body).to.contain('# TYPE tuist_runs counter\n');
    expect(body).to.contain('# HELP tuist_cache_uploaded_bytes ');
    expect(body).to.not.contain('# TYPE tuist_cache_uploaded_bytes');
    expect(body).to.contain('\ntuist_cache_uploaded_bytes 1234\n');
    expect(body).to.not.contain('# TYPE tuist_storage_get_object_size_count');
    expect(body).to.contain('# TYPE tuist_runs_duration_milliseconds histogram\n');
    expect(body).to.contain('# TYPE lib_requests counter\n');
    expect(body).to.contain('\nlib_requests_total 3\n');
    expect(body).to.not.contain('# UNIT');
  });

  it('the sample names (what PromQL sees) are identical in both formats, and promtool accepts both bodies', async function () {
    const text = await scrapeWith(t.url!, 'text/plain');
    const om = await scrapeWith(t.url!, PROMETHEUS_ACCEPT);
    expect(text.type).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleNames(om.body)).to.deep.equal(sampleNames(text.body));
    expect(sampleNames(text.body)).to.include.members([
      'tuist_cache_uploaded_bytes',
      'tuist_runs_total',
      'lib_requests_total',
      'lib_latency_bucket',
    ]);
    expectPromtoolParses(this, text.body);
    expectPromtoolParses(this, om.body);
  });

  it('renderPrometheus({ openMetrics: true }) is the OpenMetrics body', async () => {
    const body = await t.renderPrometheus({ openMetrics: true });
    expect(body.endsWith('# EOF\n')).to.equal(true);
    expect(await t.renderPrometheus()).to.not.contain('# EOF');
  });

  it('rewrites only counter families of the stock serializer output', () => {
    const text =
      '# HELP a_total x\n# UNIT a_total By\n# TYPE a_total counter\na_total 1\n# HELP g_total y\n# TYPE g_total gauge\ng_total 2\n';
    expect(textToOpenMetrics(text)).to.equal(
      '# HELP a x\n# TYPE a counter\na_total 1\n# HELP g_total y\n# TYPE g_total gauge\ng_total 2\n',
    );
  });
});

describe('core: a real Prometheus 2.42 negotiates OpenMetrics', function () {
  this.timeout(90_000);

  it('stores the documented names unchanged (no _total added), typed as the endpoint said', async function () {
    requirePrometheus(this);
    const t = await startReady();
    t.metrics.recordCacheUpload(77);
    t.metrics.recordRun({ name: 'test', isCi: false, status: 0, durationMs: 5 });
    t.meterProvider.getMeter('lib').createCounter('lib.requests').add(2);
    const prom = await startPrometheus({ targets: [`127.0.0.1:${t.port}`] });
    try {
      const names = await prom.metricNames();
      for (const n of [
        'tuist_cache_uploaded_bytes',
        'tuist_runs_total',
        'tuist_storage_get_object_size_count',
        'tuist_runs_duration_milliseconds_bucket',
        'lib_requests_total',
      ]) {
        expect(names, n).to.include(n);
      }
      for (const n of [
        'tuist_cache_uploaded_bytes_total',
        'tuist_storage_get_object_size_count_total',
        'tuist_runs_total_total',
      ])
        expect(names, n).to.not.include(n);
      expect((await prom.vector('tuist_cache_uploaded_bytes')).map((s) => Number(s.value[1]))).to.deep.equal([77]);
      // The metadata Prometheus keeps shows it parsed OpenMetrics: the suffix-less counter is `unknown` there.
      const res = await fetch(`${prom.url}/api/v1/metadata?metric=tuist_cache_uploaded_bytes`);
      const meta = (await res.json()) as { data: Record<string, { type: string }[]> };
      expect(meta.data.tuist_cache_uploaded_bytes?.[0]?.type).to.equal('unknown');
    } finally {
      await prom.stop();
      await t.shutdown();
    }
  });
});
