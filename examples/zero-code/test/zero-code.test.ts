import { expect } from 'chai';
import { catalog } from '@tuist-telemetry/core/internal';
import {
  samples,
  scrape,
  startPostgres,
  startS3Server,
  type Exposition,
  type Postgres,
  type S3Server,
} from '@tuist-telemetry/testing';
import { runApp } from './run-app.js';

const families = (family: string) => catalog.filter((d) => d.family === family).map((d) => d.name);
const has = (exp: Exposition, name: string): boolean =>
  samples(exp, name).length + samples(exp, `${name}_count`).length > 0;

describe('zero code: node --import (or --require) @tuist-telemetry/core/register on apps that import no @tuist-telemetry package', function () {
  let postgres: Postgres;
  let s3: S3Server;
  before(async () => {
    [postgres, s3] = await Promise.all([
      startPostgres({ from: import.meta.url }),
      startS3Server({ from: import.meta.url }),
    ]);
  });
  after(async () => {
    await Promise.all([postgres?.stop(), s3?.stop()]);
  });

  // `--require` (how NODE_OPTIONS preloads are often set) as well as `--import`, on both kinds of app.
  const REGISTER = '@tuist-telemetry/core/register';
  for (const [kind, entry, preload] of [
    ['ES module', 'esm/app.mjs', { args: ['--import', REGISTER] }],
    ['CommonJS', 'cjs/app.cjs', { args: ['--import', REGISTER] }],
    ['ES module, --require', 'esm/app.mjs', { args: ['--require', REGISTER] }],
    ['CommonJS, NODE_OPTIONS=--require', 'cjs/app.cjs', { args: [], env: { NODE_OPTIONS: `--require ${REGISTER}` } }],
  ] as const) {
    describe(`${kind} app (${entry})`, () => {
      let exp: Exposition;
      let output = '';
      before(async () => {
        const app = runApp(
          entry,
          {
            DATABASE_URL: postgres.url,
            S3_ENDPOINT: s3.endpoint,
            OTEL_EXPORTER_PROMETHEUS_PORT: '0',
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
            // Each run its own bucket (the same app runs under both preloads against one S3 server).
            S3_BUCKET: `zero-code-${preload.args[0]?.slice(2) ?? 'node-options'}-${entry.slice(0, 3)}`,
            ...('env' in preload ? preload.env : {}),
          },
          [...preload.args],
        );
        try {
          await app.ready;
          exp = await scrape(`http://127.0.0.1:${await app.metricsPort()}/metrics`);
        } finally {
          output = app.output();
          await app.stop();
        }
      });

      it('every documented pool family has samples, from its own pool and the one pg-boss creates inside itself', () => {
        for (const name of families('database')) expect(has(exp, name), `${name}\n${output}`).to.equal(true);
        const ok = samples(exp, 'tuist_repo_query_count', { result: 'ok' }).reduce((a, s) => a + s.value, 0);
        // The app's own pool ran 3 queries that succeeded; pg-boss ran its schema set-up and the job through its own.
        expect(ok, 'queries of the pg-boss pool are counted too').to.be.greaterThan(10);
        expect(
          samples(exp, 'tuist_repo_query_count', { result: 'error' }).reduce((a, s) => a + s.value, 0),
        ).to.be.greaterThan(0);
      });

      it('every documented HTTP client family has samples from fetch', () => {
        for (const name of families('http')) expect(has(exp, name), name).to.equal(true);
      });

      it('Express and Fastify requests are recorded with their route templates, never raw paths', () => {
        for (const name of families('http_server')) expect(has(exp, name), name).to.equal(true);
        const routes = new Set(samples(exp, 'tuist_http_server_requests_total').map((s) => s.labels.route));
        expect(routes).to.include('/projects/:handle');
        expect(routes).to.include('/builds/:id');
        expect(routes, 'a 404 is unmatched, not its path').to.include('unmatched');
        for (const r of routes) expect(['/projects/:handle', '/builds/:id', 'unmatched']).to.include(r);
      });

      it('the start prints no deprecation warning (Node 26 deprecates module.register(): the sync hooks are used there)', () => {
        expect(output).to.not.match(/DeprecationWarning|DEP0\d+/);
      });

      it('S3 commands of a plain S3Client are recorded', () => {
        for (const name of ['tuist_storage_command_count', 'tuist_storage_command_duration_milliseconds'])
          expect(has(exp, name), name).to.equal(true);
        const commands = new Set(samples(exp, 'tuist_storage_command_count').map((s) => s.labels.command));
        for (const c of ['PutObject', 'GetObject', 'HeadObject', 'ListObjectsV2']) expect(commands).to.include(c);
      });
    });
  }

  describe('NodeSDK app (nodesdk/app.cjs): createMetricReader() and tuistInstrumentations() next to the stock undici instrumentation', () => {
    let exp: Exposition;
    let ready: { instrumentations: string[] };
    before(async () => {
      const app = runApp(
        'nodesdk/app.cjs',
        {
          DATABASE_URL: postgres.url,
          OTEL_EXPORTER_PROMETHEUS_PORT: '0',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        },
        [],
      );
      try {
        ready = JSON.parse(await app.ready) as typeof ready;
        exp = await scrape(`http://127.0.0.1:${await app.metricsPort()}/metrics`);
      } finally {
        await app.stop();
      }
    });

    it('tuistInstrumentations() found the four installed here', () => {
      expect(ready.instrumentations).to.have.length(4);
    });

    it('one /metrics: catalog (counted once), the stock instrumentation and the app instrument', () => {
      const total = (name: string, labels: Record<string, string> = {}) =>
        samples(exp, name, labels).reduce((a, s) => a + s.value, 0);
      expect(total('tuist_repo_query_count', { result: 'ok' })).to.equal(2);
      expect(total('tuist_http_request_count')).to.equal(3);
      expect(total('tuist_http_server_requests_total')).to.equal(3);
      const stock = [...exp.keys()].find((k) => k.startsWith('http_client_request_duration'));
      expect(stock, [...exp.keys()].join(' ')).to.not.equal(undefined);
      expect(total(`${stock!}_count`)).to.equal(3);
      expect(total('app_signups_total')).to.equal(2);
    });
  });
});
