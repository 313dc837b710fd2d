import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog } from '@tuist-telemetry/core/internal';
import {
  eventually,
  findPrometheus,
  requireService,
  startPrometheus,
  type PrometheusServer,
} from '@tuist-telemetry/testing';
import {
  catalogEntryFor,
  dashboardQueries,
  HISTOGRAM_KINDS,
  histogramKindProblems,
  metricNamesIn,
  queriesWithoutData,
  readDashboards,
} from './dashboards.js';
import { startDemoProcess, type DemoProcess } from './demo-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Extensions the demo cannot guarantee: dropped analytics events need PostHog failing; `nodejs_active_requests{type}`
 * has a series only while a libuv request (a file read, a DNS lookup) is in flight at collection time.
 */
// Series that only exist once something goes wrong: dropped analytics events, and the SDK's own self-metrics
// (family `telemetry`: a label past its bound, a cluster worker that missed a scrape). The demo runs a single
// process well within every bound, so they rightly have no series there.
const NOT_IN_DEMO = new Set([
  'tuist_analytics_events_dropped_total',
  'nodejs_active_requests',
  ...catalog.filter((d) => d.family === 'telemetry').map((d) => d.name),
]);

function sampleNamesOf(name: string): string[] {
  const def = catalog.find((d) => d.name === name)!;
  return def.type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

describe('examples: the demo scraped by a real Prometheus; Grafana dashboards checked against it', function () {
  this.timeout(120_000);
  let demo: DemoProcess | undefined;
  let prom: PrometheusServer | undefined;

  before(async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'apt-get install prometheus, or set PROMETHEUS_BIN',
    );
    demo = await startDemoProcess({ args: ['--load-interval-ms', '50'] });
    prom = await startPrometheus({ targets: [`127.0.0.1:${demo.metricsPort!}`], scrapeIntervalSeconds: 1 });
  });
  after(async () => {
    await prom?.stop();
    await demo?.stop();
  });

  it('every documented metric name has at least one series in Prometheus, and every counter and histogram counted something', async () => {
    const documented = catalog.filter((d) => !d.extension);
    expect(documented.length).to.be.greaterThan(40);
    const missingNow = async () => {
      const names = new Set(await prom!.metricNames());
      return documented.filter((d) => !sampleNamesOf(d.name).every((n) => names.has(n))).map((d) => d.name);
    };
    await eventually(
      'every documented metric in Prometheus',
      async () => ((await missingNow()).length === 0 ? true : undefined),
      40_000,
    ).catch(() => undefined);
    expect(
      await missingNow(),
      `documented metrics without a series in Prometheus\n${demo!.output().slice(-2000)}`,
    ).to.deep.equal([]);

    // Gauges may legitimately be 0 (an empty checkout queue); counters and histograms must have counted.
    const counted = documented.filter((d) => d.type !== 'gauge');
    const zeroNow = async () => {
      const zero: string[] = [];
      for (const d of counted) {
        const [s] = await prom!.vector(`sum(${d.type === 'histogram' ? `${d.name}_count` : d.name})`);
        if (!(Number(s?.value[1]) > 0)) zero.push(d.name);
      }
      return zero;
    };
    await eventually(
      'every documented counter and histogram above 0',
      async () => ((await zeroNow()).length === 0 ? true : undefined),
      30_000,
    ).catch(() => undefined);
    expect(await zeroNow(), 'documented counters/histograms still at 0').to.deep.equal([]);
  });

  it("every extension metric in core's catalog has a series too (runtime, HTTP server, jobs, database, S3 commands)", async () => {
    const extensions = catalog.filter((d) => d.extension && !NOT_IN_DEMO.has(d.name));
    const names = new Set(await prom!.metricNames());
    const missing = extensions.filter((d) => !sampleNamesOf(d.name).every((n) => names.has(n))).map((d) => d.name);
    expect(missing).to.deep.equal([]);
  });

  it('every expression in every dashboard is accepted by Prometheus and returns data (Histograms: auto)', async () => {
    expect(dashboardQueries().length).to.be.greaterThan(60);
    const { rejected, empty } = await queriesWithoutData(prom!, 'auto');
    expect(rejected, 'expressions Prometheus rejected').to.deep.equal([]);
    expect(empty, 'expressions without data').to.deep.equal([]);
  });

  it('classic histograms: the histogram panels give with Histograms auto what they give with classic, and nothing with native', async () => {
    expect(await histogramKindProblems(prom!, 'classic')).to.deep.equal([]);
  });

  it('dashboards use only metrics from the catalog, by their documented names', () => {
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const q of dashboardQueries()) {
      const names = metricNamesIn(q.expr);
      expect(names, `no metric found in ${q.expr}`).to.not.be.empty;
      for (const n of names) {
        const def = catalogEntryFor(n, catalog);
        if (def) used.add(def.name);
        else unknown.push(`${q.dashboard} / ${q.panel}: ${n}`);
      }
    }
    expect(unknown, 'metrics missing from the catalog').to.deep.equal([]);
    // Each documented family is charted somewhere.
    const families = new Set(catalog.filter((d) => used.has(d.name)).map((d) => d.family));
    for (const f of [
      'runs',
      'cache',
      'previews',
      'storage',
      'authentication',
      'projects',
      'accounts',
      'database',
      'http',
      'runtime',
    ]) {
      expect(families, `family ${f}`).to.include(f);
    }
  });

  it('the name check catches a metric outside the catalog (and reads names the way PromQL does)', () => {
    const expr =
      'histogram_quantile(0.95, sum by (le, name) (rate(tuist_runs_duration_milliseconds_bucket{instance=~"$instance",name!="x_total"}[$__rate_interval]))) / 1e9 + on(instance) group_left tuist_made_up_total';
    expect(metricNamesIn(expr)).to.deep.equal(['tuist_runs_duration_milliseconds_bucket', 'tuist_made_up_total']);
    expect(catalogEntryFor('tuist_runs_duration_milliseconds_bucket', catalog)?.name).to.equal(
      'tuist_runs_duration_milliseconds',
    );
    expect(catalogEntryFor('tuist_storage_get_object_size_count', catalog)?.type).to.equal('counter');
    expect(catalogEntryFor('tuist_made_up_total', catalog)).to.equal(undefined);
    expect(catalogEntryFor('tuist_runs_total_bucket', catalog)).to.equal(undefined);
  });

  it('the dashboard files are what build-dashboards.mjs writes, with unique panel ids and the three variables', () => {
    const r = spawnSync(process.execPath, ['examples/grafana/build-dashboards.mjs', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    const dashboards = readDashboards();
    expect(dashboards.map((d) => d.file)).to.deep.equal([
      'tuist-database.json',
      'tuist-http-client.json',
      'tuist-node-runtime.json',
      'tuist-runs-cache.json',
      'tuist-storage.json',
    ]);
    for (const d of dashboards) {
      const ids = d.json.panels.map((p) => p.id);
      expect(new Set(ids).size, d.file).to.equal(ids.length);
      expect(d.json.templating.list.map((v) => v.name)).to.deep.equal(['datasource', 'instance', 'histograms']);
      // The Histograms variable offers auto (the default), classic and native with the values the queries test.
      const h = d.json.templating.list[2]!;
      expect(Object.fromEntries(h.options!.map((o) => [o.text, o.value])), d.file).to.deep.equal(HISTOGRAM_KINDS);
      expect(h.query).to.equal('auto : 0,classic : -1,native : 1');
      expect(h.current).to.include({ text: 'auto', value: HISTOGRAM_KINDS.auto });
    }
  });

  it('latency panels (quantiles over histograms) show exemplars, and the data source links their trace_id to traces', () => {
    let latency = 0;
    for (const d of readDashboards()) {
      for (const panel of d.json.panels) {
        for (const t of panel.targets ?? []) {
          const isLatency = t.expr.includes('histogram_quantile(');
          if (isLatency) latency++;
          expect(t.exemplar === true, `${d.file} "${panel.title}" ${t.refId}`).to.equal(isLatency);
        }
      }
    }
    expect(latency, 'latency queries in the dashboards').to.be.greaterThan(10);
    const ds = readFileSync(path.join(root, 'examples/grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    expect(ds).to.match(/exemplarTraceIdDestinations:\n\s+- name: trace_id\n\s+datasourceUid: tempo/);
    expect(ds).to.match(/uid: tempo/);
  });

  it('examples/prometheus/prometheus.yml is a valid Prometheus configuration scraping :9091 every 15 s', function () {
    const promtool = path.join(path.dirname(findPrometheus()!), 'promtool');
    requireService(this, 'promtool', existsSync(promtool), `not found next to ${findPrometheus()}`);
    const r = spawnSync(promtool, ['check', 'config', 'examples/prometheus/prometheus.yml'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    const text = readFileSync(path.join(root, 'examples/prometheus/prometheus.yml'), 'utf8');
    expect(text).to.match(/scrape_interval: 15s/);
    expect(text).to.match(/localhost:9091/);
  });
});
