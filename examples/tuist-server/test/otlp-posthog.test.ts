import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { catalog } from '@tuist-telemetry/core/internal';
import { startDemoProcess, type DemoProcess } from './demo-process.js';
import { eventually } from '@tuist-telemetry/testing';

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

interface PosthogEvent {
  event: string;
  distinct_id?: string;
  properties?: Record<string, unknown>;
}

/**
 * One local HTTP server standing in for an OpenTelemetry Collector's OTLP/HTTP receiver (JSON) and for PostHog's
 * ingestion API.
 */
class Receiver {
  readonly metricNames = new Set<string>();
  readonly resourceAttributes = new Map<string, unknown>();
  readonly events: PosthogEvent[] = [];
  readonly apiKeys = new Set<string>();
  exports = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: Buffer = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const path = (req.url ?? '').split('?')[0];
      try {
        if (req.method === 'POST' && path === '/v1/metrics') {
          const data = JSON.parse(body.toString('utf8')) as {
            resourceMetrics: {
              resource?: { attributes?: { key: string; value: Record<string, unknown> }[] };
              scopeMetrics: { metrics: { name: string }[] }[];
            }[];
          };
          this.exports++;
          for (const rm of data.resourceMetrics) {
            for (const a of rm.resource?.attributes ?? [])
              this.resourceAttributes.set(a.key, Object.values(a.value)[0]);
            for (const sm of rm.scopeMetrics) for (const m of sm.metrics) this.metricNames.add(m.name);
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
          return;
        }
        if (req.method === 'POST' && (path === '/batch/' || path === '/batch')) {
          const data = JSON.parse(body.toString('utf8')) as { api_key: string; batch: PosthogEvent[] };
          this.apiKeys.add(data.api_key);
          this.events.push(...data.batch);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":1}');
          return;
        }
        res.writeHead(404);
        res.end();
      } catch (err) {
        res.writeHead(400);
        res.end(String(err));
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('examples: the demo pushing OTLP (OTEL_METRICS_EXPORTER=otlp) and sending PostHog analytics', function () {
  this.timeout(120_000);
  const receiver = new Receiver();
  let demo: DemoProcess | undefined;

  before(async () => {
    await receiver.start();
    demo = await startDemoProcess({
      args: ['--load-interval-ms', '50'],
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_SERVICE_NAME: 'tuist-demo-otlp',
        TUIST_POSTHOG_API_KEY: 'phc_demo_key',
        TUIST_POSTHOG_URL: receiver.url,
      },
    });
  });
  after(async () => {
    await demo?.stop();
    await receiver.stop();
  });

  it('every documented metric name arrives at the OTLP receiver', async () => {
    const documented = catalog.filter((d) => !d.extension).map((d) => d.name);
    const missing = () => documented.filter((n) => !receiver.metricNames.has(n));
    await eventually(
      'every documented name pushed',
      async () => (missing().length === 0 ? true : undefined),
      40_000,
    ).catch(() => undefined);
    expect(
      missing(),
      `not received over OTLP after ${receiver.exports} exports\n${demo!.output().slice(-1500)}`,
    ).to.deep.equal([]);
    expect(receiver.resourceAttributes.get('service.name')).to.equal('tuist-demo-otlp');
  });

  it('extension metrics arrive too, and nothing listens on the Prometheus port', async () => {
    const missing = catalog
      .filter((d) => d.extension && !NOT_IN_DEMO.has(d.name) && !receiver.metricNames.has(d.name))
      .map((d) => d.name);
    expect(missing).to.deep.equal([]);
    // Started with --metrics-port 0: the Prometheus endpoint, were it on, would be printed with the port it got.
    expect(demo!.metricsUrl, 'the Prometheus endpoint must be off when OTEL_METRICS_EXPORTER=otlp').to.equal(undefined);
    expect(demo!.output()).to.include('Metrics    pushed with otlp').and.not.include('/metrics on');
  });

  it('the three page sections carry the PostHog browser snippet, served with the local posthog-js bundle', async () => {
    const page = async (p: string) => (await fetch(`${demo!.url}${p}`)).text();
    const [marketing, dashboard, docs] = await Promise.all([page('/'), page('/dashboard'), page('/api/docs')]);
    for (const [html, section] of [
      [marketing, 'marketing'],
      [dashboard, 'dashboard'],
      [docs, 'api-docs'],
    ] as const) {
      expect(html, section).to.include('/assets/posthog.js');
      expect(html, section).to.include('phc_demo_key');
      expect(html, section).to.include(`"${section}"`);
    }
    expect(dashboard).to.include('marek@example.com');
    expect(marketing).to.not.include('marek@example.com');
    const bundle = await fetch(`${demo!.url}/assets/posthog.js`);
    expect(bundle.status).to.equal(200);
    expect((await bundle.text()).length).to.be.greaterThan(10_000);
  });

  it('server-side analytics events reach PostHog with their page section', async () => {
    const want = ['$pageview', 'preview_upload', 'preview_download', 'authentication_token_refresh_error'];
    const missing = () => want.filter((e) => !receiver.events.some((x) => x.event === e));
    await eventually(
      'analytics events received',
      async () => (missing().length === 0 ? true : undefined),
      30_000,
    ).catch(() => undefined);
    expect(missing()).to.deep.equal([]);
    expect([...receiver.apiKeys]).to.deep.equal(['phc_demo_key']);
    const sections = new Set(
      receiver.events.filter((e) => e.event === '$pageview').map((e) => e.properties?.page_section),
    );
    await eventually(
      'page views of the three sections',
      async () => {
        for (const e of receiver.events) if (e.event === '$pageview') sections.add(e.properties?.page_section);
        return sections.size === 3 ? true : undefined;
      },
      20_000,
    ).catch(() => undefined);
    expect([...sections].sort()).to.deep.equal(['api-docs', 'dashboard', 'marketing']);
    for (const e of receiver.events)
      expect(e.properties?.page_section, e.event).to.be.oneOf(['marketing', 'dashboard', 'api-docs']);
    // The dashboard visitor is the signed-in demo user; marketing visitors are anonymous.
    const dashboardViews = receiver.events.filter(
      (e) => e.event === '$pageview' && e.properties?.page_section === 'dashboard',
    );
    expect(new Set(dashboardViews.map((e) => e.distinct_id)).size).to.equal(1);
  });
});
