import { expect } from 'chai';
import {
  eventually,
  findPrometheus,
  requireService,
  startPrometheus,
  traceReceiver,
  type ExemplarSeries,
  type PrometheusServer,
  type Span,
} from '@tuist-telemetry/testing';
import { startDemoProcess, type DemoProcess } from './demo-process.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** The latency histograms of the catalog the demo records inside spans, as bucket selectors. */
const FAMILIES = {
  'HTTP server': 'tuist_http_server_request_duration_milliseconds_bucket',
  storage: '{__name__=~"tuist_storage_.+_duration_mill?iseconds_bucket"}',
  'repo queries': '{__name__=~"tuist_repo_query_.+_time_milliseconds_bucket"}',
  runs: 'tuist_runs_duration_milliseconds_bucket',
  jobs: 'tuist_job_processing_duration_milliseconds_bucket',
  'HTTP client': '{__name__=~"tuist_http_.+_nanoseconds?_bucket"}',
} as const;
type Family = keyof typeof FAMILIES;

describe('examples: the demo with OTEL_TRACES_EXPORTER=otlp, scraped by a real Prometheus with exemplar storage', function () {
  this.timeout(90_000);
  let rx: Awaited<ReturnType<typeof traceReceiver>> | undefined;
  let demo: DemoProcess | undefined;
  let prom: PrometheusServer | undefined;

  before(async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'apt-get install prometheus, or set PROMETHEUS_BIN',
    );
    rx = await traceReceiver();
    demo = await startDemoProcess({
      args: ['--load-interval-ms', '100'],
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_METRICS_EXPORTER: 'prometheus',
      },
    });
    prom = await startPrometheus({
      targets: [`127.0.0.1:${demo.metricsPort!}`],
      scrapeIntervalSeconds: 1,
      flags: ['--enable-feature=exemplar-storage'],
    }).catch((err: Error) => {
      throw new Error(
        `${err.message.slice(0, 2000)}\n--- the demo (exit code ${demo!.child.exitCode}) ---\n${demo!.output().slice(-3000)}`,
      );
    });
  });
  after(async () => {
    await prom?.stop();
    await demo?.stop();
    await rx?.close();
  });

  it('query_exemplars returns trace ids for the HTTP server, storage, repo query, run, job and HTTP client histograms, each received by the OTLP receiver as a span', async () => {
    let without: Family[] = [];
    const found = await eventually(
      'exemplars of every family',
      async () => {
        const byFamily = {} as Record<Family, ExemplarSeries[]>;
        for (const [family, query] of Object.entries(FAMILIES) as [Family, string][]) {
          byFamily[family] = (await prom!.exemplars(query)).filter((s) => s.exemplars.length > 0);
        }
        without = (Object.keys(FAMILIES) as Family[]).filter((f) => byFamily[f].length === 0);
        return without.length === 0 ? byFamily : undefined;
      },
      40_000,
      1000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; no exemplars for: ${without.join(', ')}\n${demo!.output().slice(-3000)}`);
    });

    // Spans are exported in batches (every 200 ms here): wait until every exemplar's span has arrived.
    const spanKey = (s: Pick<Span, 'traceId' | 'spanId'>) => `${s.traceId.toLowerCase()}/${s.spanId.toLowerCase()}`;
    const all = Object.values(found).flatMap((series) => series.flatMap((s) => s.exemplars));
    for (const e of all) {
      expect(e.labels.trace_id, JSON.stringify(e)).to.match(TRACE_ID);
      expect(e.labels.span_id, JSON.stringify(e)).to.match(SPAN_ID);
      expect(Number(e.value), JSON.stringify(e)).to.be.at.least(0);
    }
    const missing = () => {
      const received = new Set(rx!.spans.map(spanKey));
      return all.filter((e) => !received.has(spanKey({ traceId: e.labels.trace_id!, spanId: e.labels.span_id! })));
    };
    await eventually(
      'every exemplar span at the receiver',
      async () => (missing().length === 0 ? true : undefined),
      15_000,
      250,
    ).catch(() => undefined);
    expect(
      missing().map((e) => e.labels),
      'exemplars whose span the receiver never got',
    ).to.deep.equal([]);

    // The spans behind the exemplars are the ones that explain the numbers: a server request for the HTTP server
    // histogram, the job's own span for the job histogram.
    const spanOf = (e: ExemplarSeries['exemplars'][number]) =>
      rx!.spans.find((s) => spanKey(s) === spanKey({ traceId: e.labels.trace_id!, spanId: e.labels.span_id! }))!;
    const SERVER = 2;
    for (const s of found['HTTP server'])
      for (const e of s.exemplars) expect(spanOf(e).kind, JSON.stringify(spanOf(e))).to.equal(SERVER);
    for (const s of found.jobs)
      for (const e of s.exemplars) expect(spanOf(e).name).to.equal('RefreshDashboardStatsWorker');
    // Storage operations happen in several routes: more than one storage histogram has exemplars.
    expect(
      new Set(found.storage.map((s) => s.seriesLabels.__name__)).size,
      found.storage.map((s) => s.seriesLabels.__name__).join(', '),
    ).to.be.greaterThan(1);
  });

  it('the spans carry trace context across the demo: pg query spans and server spans of one load iteration share its trace', () => {
    const names = new Set(rx!.spans.map((s) => s.name));
    expect(
      [...names].some((n) => n.startsWith('pg.query')),
      [...names].slice(0, 40).join(', '),
    ).to.equal(true);
    const iterations = rx!.spans.filter((s) => s.name === 'load iteration');
    expect(iterations.length).to.be.greaterThan(0);
    const traced = new Set(iterations.map((s) => s.traceId));
    const SERVER = 2;
    const serverSpansInIterations = rx!.spans.filter((s) => s.kind === SERVER && traced.has(s.traceId));
    expect(
      serverSpansInIterations.length,
      'server spans joined to a load iteration through traceparent',
    ).to.be.greaterThan(0);
    // Prometheus' scrapes of /metrics are not the demo's work: no span for them.
    const scrapes = rx!.spans.filter(
      (s) => s.kind === SERVER && /"\/metrics"/.test(JSON.stringify(s.attributes ?? [])),
    );
    expect(scrapes.map((s) => s.name)).to.deep.equal([]);
    expect(demo!.output()).to.include(`Traces     otlp to ${rx!.url}/v1/traces (http/json)`);
    // Node 26 deprecates module.register() (DEP0205): the loader hook takes registerHooks there (test-lines runs this).
    expect(demo!.output()).to.not.include('DEP0205');
  });
});
