import { expect } from 'chai';
import {
  findPrometheus,
  requireService,
  startPrometheus,
  traceReceiver,
  type ExemplarSeries,
  type Postgres,
  type PrometheusServer,
  type S3Server,
} from '@tuist-telemetry/testing';
import { otlpTracesEnv, runApp, startServices } from './helpers.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

describe('exemplars end to end: a real Prometheus with exemplar storage scraping the zero-code app with traces on', () => {
  let postgres: Postgres;
  let s3: S3Server;
  let stopServices = async () => {};
  before(async function () {
    requireService(
      this,
      'Prometheus',
      findPrometheus() !== undefined,
      'set PROMETHEUS_BIN or apt-get install prometheus',
    );
    ({ postgres, s3, stop: stopServices } = await startServices());
  });
  after(() => stopServices());

  it('query_exemplars returns trace ids that the local OTLP trace receiver received as spans', async () => {
    const rx = await traceReceiver();
    const app = runApp('esm/app.mjs', {
      DATABASE_URL: postgres.url,
      S3_ENDPOINT: s3.endpoint,
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      ...otlpTracesEnv(rx.url),
    });
    let prom: PrometheusServer | undefined;
    try {
      await app.ready;
      const port = await app.metricsPort();
      prom = await startPrometheus({ targets: [`127.0.0.1:${port}`], flags: ['--enable-feature=exemplar-storage'] });
      const deadline = Date.now() + 30_000;
      let found: ExemplarSeries[] = [];
      while (Date.now() < deadline) {
        found = await prom.exemplars('{__name__=~"tuist_.+_bucket"}');
        if (found.length > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const ids = new Set(
        found.flatMap((s) => s.exemplars.flatMap((e) => Object.values(e.labels).filter((v) => TRACE_ID.test(v)))),
      );
      expect(
        ids.size,
        `exemplars of the tuist histograms:\n${JSON.stringify(found).slice(0, 2000)}\n${app.output()}`,
      ).to.be.greaterThan(0);
      const families = new Set(found.map((s) => s.seriesLabels.__name__));
      expect(
        [...families].some((n) => n!.startsWith('tuist_http_server_request_duration')),
        [...families].join(', '),
      ).to.equal(true);
      const received = new Set(rx.spans.map((s) => s.traceId.toLowerCase()));
      for (const id of ids) expect(received.has(id), `trace ${id} reached the receiver`).to.equal(true);
    } finally {
      await prom?.stop();
      await app.stop();
      await rx.close();
    }
  });
});
