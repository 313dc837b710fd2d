import { expect } from 'chai';
import {
  samples,
  startPostgres,
  startS3Server,
  traceReceiver,
  type Exposition,
  type Postgres,
  type S3Server,
} from '@tuist-telemetry/testing';
import { CLIENT, families, has, otlpTracesEnv, runApp, runtimeBinary, SERVER, scrapeApp } from './helpers.js';

/** The documented zero-code commands (docs/bun-and-deno.md): each runtime's own preload flag. */
const RUNTIMES = [
  { name: 'bun', version: '1.4.5', args: ['--preload', '@tuist-telemetry/core/register'] },
  {
    name: 'deno',
    version: '2.9.6',
    args: ['run', '-A', '--preload', './node_modules/@tuist-telemetry/core/dist/register.js'],
  },
] as const;

describe('zero code on Bun and Deno: each runtime preloads @tuist-telemetry/core/register into the same apps', function () {
  this.timeout(120_000);
  let postgres: Postgres;
  before(async () => {
    postgres = await startPostgres({ from: import.meta.url });
  });
  after(async () => {
    await postgres?.stop();
  });

  for (const runtime of RUNTIMES) {
    for (const [kind, entry] of [
      ['ES module', 'esm/app.mjs'],
      ['CommonJS', 'cjs/app.cjs'],
    ] as const) {
      describe(`${runtime.name} ${runtime.args.join(' ')} ${entry} (${kind})`, () => {
        let exp: Exposition;
        let output = '';
        before(async () => {
          // A store of its own: every app creates the same bucket.
          const s3: S3Server = await startS3Server({ from: import.meta.url });
          try {
            ({ exp, output } = await scrapeApp(
              entry,
              { DATABASE_URL: postgres.url, S3_ENDPOINT: s3.endpoint, DENO_NO_UPDATE_CHECK: '1' },
              [...runtime.args],
              await runtimeBinary(runtime.name),
            ));
          } finally {
            await s3.stop();
          }
        });

        it('starts without a hang, a stack or an error', () => {
          expect(output).to.match(/^READY /m);
          expect(output, output).to.not.match(/^\s+at |error|exception|DeprecationWarning/im);
        });

        it('every documented pool family has samples, from its own pool and the one pg-boss creates inside itself', () => {
          for (const name of families('database')) expect(has(exp, name), `${name}\n${output}`).to.equal(true);
          const ok = samples(exp, 'tuist_repo_query_count', { result: 'ok' }).reduce((a, s) => a + s.value, 0);
          expect(ok).to.be.greaterThan(10);
        });

        it('S3 commands of a plain S3Client are recorded', () => {
          const commands = new Set(samples(exp, 'tuist_storage_command_count').map((s) => s.labels.command));
          for (const c of ['PutObject', 'GetObject', 'HeadObject', 'ListObjectsV2'])
            expect(commands, output).to.include(c);
        });

        it(`${runtime.name}'s own fetch is measured: tuist_http_request_count and its duration, by status, method and host`, () => {
          // The app fetches /projects/tuist, /projects/other, /no/such/page (404) and /builds/1, /builds/2.
          const count = (status: string) =>
            samples(exp, 'tuist_http_request_count', {
              response_status: status,
              request_method: 'GET',
              request_host: '127.0.0.1',
            }).reduce((a, s) => a + s.value, 0);
          expect(count('200'), output).to.equal(4);
          expect(count('404')).to.equal(1);
          expect(
            samples(exp, 'tuist_http_request_duration_nanosecond_count').reduce((a, s) => a + s.value, 0),
          ).to.equal(5);
        });

        it('runtime metrics say which runtime they measure, and leave out what it cannot measure', () => {
          expect(samples(exp, 'tuist_runtime_info').map((s) => s.labels)).to.deep.equal([
            { runtime: runtime.name, version: runtime.version },
          ]);
          expect(samples(exp, 'nodejs_eventloop_utilization_ratio'), 'always 0 on both runtimes').to.deep.equal([]);
          expect(
            has(exp, 'process_cpu_seconds_total') &&
              has(exp, 'nodejs_heap_size_used_bytes') &&
              has(exp, 'nodejs_eventloop_lag_p99_seconds'),
          ).to.equal(true);
        });

        it('Express and Fastify requests are recorded with their route templates', () => {
          const routes = new Set(samples(exp, 'tuist_http_server_requests_total').map((s) => s.labels.route));
          expect([...routes].sort()).to.deep.equal(['/builds/:id', '/projects/:handle', 'unmatched']);
          // Five requests, each once (Bun's node:http is not counted again as Bun.serve).
          expect(samples(exp, 'tuist_http_server_requests_total').reduce((a, s) => a + s.value, 0)).to.equal(5);
        });
      });
    }

    it(`${runtime.name}: with OTEL_TRACES_EXPORTER=otlp, OpenTelemetry's own instrumentations give ${runtime.name === 'bun' ? 'pg and node:http (server and client) spans; fetch has none' : 'pg spans only'}`, async () => {
      const s3: S3Server = await startS3Server({ from: import.meta.url });
      const rx = await traceReceiver();
      const env = {
        DATABASE_URL: postgres.url,
        S3_ENDPOINT: s3.endpoint,
        OTEL_METRICS_EXPORTER: 'none',
        ...otlpTracesEnv(rx.url),
        DENO_NO_UPDATE_CHECK: '1',
      };
      const app = runApp('esm/app.mjs', env, [...runtime.args], await runtimeBinary(runtime.name));
      const count = (kind: number) => rx.spans.filter((s) => s.kind === kind).length;
      const db = () => rx.spans.filter((s) => s.attributes?.some((a) => a.key.startsWith('db.'))).length;
      try {
        await app.ready;
        // What each runtime gives, waited for (the exporter sends every 100 ms).
        const until = Date.now() + 20_000;
        while (Date.now() < until && (db() === 0 || (runtime.name === 'bun' && count(SERVER) < 5)))
          await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 500)); // and the batch after it
      } finally {
        await app.stop();
        await rx.close();
        await s3.stop();
      }
      const seen = rx.spans.map((s) => `${s.kind} ${s.name}`).join('\n');
      expect(db(), seen).to.be.greaterThan(0);
      if (runtime.name === 'bun') {
        expect(count(SERVER), seen).to.equal(5); // Express and Fastify
        expect(
          rx.spans.some((s) => s.kind === CLIENT && /^(PUT|GET|HEAD)$/.test(s.name)),
          'S3 over node:http',
        ).to.equal(true);
        expect(
          rx.spans.filter((s) => s.kind === SERVER && rx.spans.some((c) => c.spanId === s.parentSpanId)),
          'no fetch span to be the parent',
        ).to.deep.equal([]);
      } else {
        expect(count(SERVER), seen).to.equal(0);
      }
    });

    describe(`${runtime.name} ${runtime.args.join(' ')} native/app.mjs (the runtime's own server, ${runtime.name === 'bun' ? 'Bun.serve' : 'Deno.serve'})`, () => {
      let exp: Exposition;
      let output = '';
      before(async () => {
        ({ exp, output } = await scrapeApp(
          'native/app.mjs',
          { DENO_NO_UPDATE_CHECK: '1' },
          [...runtime.args],
          await runtimeBinary(runtime.name),
        ));
      });

      it('every request is recorded once, by method, route and status (a handler that throws: 500)', () => {
        const got = samples(exp, 'tuist_http_server_requests_total')
          .map((s) => `${s.labels.method} ${s.labels.route} ${s.labels.status} ${s.value}`)
          .sort();
        // Bun.serve's routes are templates; Deno.serve has one handler: unmatched.
        const want =
          runtime.name === 'bun'
            ? [
                'GET /boom 500 1',
                'GET /builds/:id 200 2',
                'GET /projects/:handle 200 1',
                'GET unmatched 404 1',
                'POST /projects/:handle 201 1',
              ]
            : ['GET unmatched 200 2', 'GET unmatched 404 2', 'GET unmatched 500 1', 'POST unmatched 404 1'];
        expect(got, output).to.deep.equal(want);
        expect(
          samples(exp, 'tuist_http_server_request_duration_milliseconds_count').reduce((a, s) => a + s.value, 0),
        ).to.equal(6);
      });
    });
  }
});
