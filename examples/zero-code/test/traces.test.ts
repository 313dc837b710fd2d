import { expect } from 'chai';
import { traceReceiver, type Postgres, type S3Server } from '@tuist-telemetry/testing';
import { CLIENT, otlpTracesEnv, runApp, SERVER, startServices } from './helpers.js';

describe('zero code with traces: OTEL_TRACES_EXPORTER=otlp and the stock instrumentations installed in the app', () => {
  let postgres: Postgres;
  let s3: S3Server;
  let stopServices = async () => {};
  before(async () => {
    ({ postgres, s3, stop: stopServices } = await startServices());
  });
  after(() => stopServices());

  it('fetch, Express and pg produce spans with no code; the server span is the child of the fetch span (W3C trace context)', async () => {
    const rx = await traceReceiver();
    const app = runApp('esm/app.mjs', {
      DATABASE_URL: postgres.url,
      S3_ENDPOINT: s3.endpoint,
      OTEL_METRICS_EXPORTER: 'none',
      ...otlpTracesEnv(rx.url),
    });
    try {
      await app.ready;
      const until = Date.now() + 20_000;
      const pairs = () =>
        rx.spans.filter(
          (s) =>
            s.kind === SERVER &&
            rx.spans.some((c) => c.kind === CLIENT && c.spanId === s.parentSpanId && c.traceId === s.traceId),
        );
      while (
        Date.now() < until &&
        (pairs().length < 5 || !rx.spans.some((s) => s.attributes?.some((a) => a.key.startsWith('db.'))))
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(
        pairs().length,
        `server spans whose parent is a fetch span, of:\n${rx.spans.map((s) => `${s.kind} ${s.name}`).join('\n')}\n${app.output()}`,
      ).to.be.at.least(5);
      expect(
        rx.spans.some((s) => s.attributes?.some((a) => a.key.startsWith('db.'))),
        'instrumentation-pg spans',
      ).to.equal(true);
    } finally {
      await app.stop();
      await rx.close();
    }
  });
});
