import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { scrape, samples, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { catalog } from '@tuist-telemetry/core/internal';

interface FixtureMetric {
  name: string;
  type: string;
  labels: string[];
  family: string;
  buckets?: string;
  server_name?: string;
  series: string[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/catalog.json', import.meta.url), 'utf8')) as {
  buckets: Record<string, { values: number[] }>;
  high_cardinality_labels: string[];
  metrics: FixtureMetric[];
};

describe('core: catalog conformance against the documented catalog (fixture)', () => {
  let t: Telemetry;
  let exp: Exposition;

  before(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      highCardinalityLabels: 'all',
      runtimeMetrics: false,
    });
    await t.ready();
    const m = t.metrics;
    m.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 150 });
    m.recordRun({ name: 'test', isCi: false, status: 1, durationMs: 5000 });
    m.recordCacheEvent('local_hit');
    m.recordCacheEvent('remote_hit', 2);
    m.recordCacheUpload(1024);
    m.recordCacheDownload(2048);
    m.recordPreviewUpload();
    m.recordPreviewDownload();
    m.recordTokenRefreshError({ cliVersion: '4.1.0', reason: 'invalid_token' });
    // Families owned by other packages: record through the store so every documented name has a series here too.
    for (const def of catalog) {
      if (!['storage', 'database', 'http'].includes(def.family) || def.extension) continue;
      const labels = Object.fromEntries(
        def.labels.map((l) => [l, l === 'response_status' || l === 'status' ? '200' : `v-${l}`]),
      );
      if (def.type === 'counter') t.store.counter(def.name).add(1, labels);
      else if (def.type === 'gauge') t.store.gauge(def.name).set(2, labels);
      else t.store.histogram(def.name).record(def.unit === 'ns' ? 3_000_000 : 150, labels);
    }
    exp = await scrape(t.url!);
  });
  after(() => t.shutdown());

  it('the fixture holds 47 families and 53 documented names', () => {
    expect(fixture.metrics).to.have.length(47);
    // The docs list each HTTP timing twice (`_sum` and `_bucket`); every other metric is one documented name.
    const names = fixture.metrics.reduce((n, m) => n + (m.family === 'http' && m.type === 'histogram' ? 2 : 1), 0);
    expect(names).to.equal(53);
  });

  it('every documented metric is in the catalog with its type, labels and buckets', () => {
    for (const m of fixture.metrics) {
      const def = catalog.find((d) => d.name === m.name);
      expect(def, m.name).to.not.equal(undefined);
      expect(def!.type, m.name).to.equal(m.type);
      expect(def!.labels, m.name).to.deep.equal(m.labels);
      expect(def!.serverName, m.name).to.equal(m.server_name);
      if (m.buckets) expect(def!.buckets, m.name).to.deep.equal(fixture.buckets[m.buckets]!.values);
    }
  });

  for (const m of fixture.metrics) {
    it(`${m.name}: TYPE ${m.type}, documented series, labels and le bounds on the scrape`, () => {
      const fam = exp.get(m.name);
      expect(fam, `family ${m.name} missing from /metrics`).to.not.equal(undefined);
      expect(fam!.type).to.equal(m.type);
      expect(fam!.help).to.be.a('string').and.not.equal('');
      for (const series of m.series) {
        const found = samples(exp, series);
        expect(found.length, `series ${series}`).to.be.greaterThan(0);
        for (const s of found) {
          const names = Object.keys(s.labels)
            .filter((l) => l !== 'le')
            .sort();
          expect(names, series).to.deep.equal([...m.labels].sort());
        }
      }
      if (m.type === 'histogram') {
        const les = [...new Set(samples(exp, `${m.name}_bucket`).map((s) => s.labels.le))];
        expect(les).to.deep.equal([...fixture.buckets[m.buckets!]!.values.map(String), '+Inf']);
      }
      if (m.type === 'counter') expect(m.name.endsWith('_total') || !exp.has(`${m.name}_total`)).to.equal(true);
    });
  }

  it('no documented counter gets a _total suffix appended, and no colliding _sum family appears', () => {
    for (const m of fixture.metrics) {
      if (!m.name.endsWith('_total')) expect(exp.has(`${m.name}_total`), m.name).to.equal(false);
      if (m.type === 'histogram') expect(exp.get(`${m.name}_sum`), m.name).to.equal(undefined);
    }
  });
});
