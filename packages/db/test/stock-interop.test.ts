import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import {
  parseExposition,
  requireService,
  runResultChild,
  samples,
  value,
  type Postgres,
  startPostgres,
} from '@tuist-telemetry/testing';

const dbDir = fileURLToPath(new URL('..', import.meta.url));

function runChild(env: Record<string, string>): Promise<{ body: string; querySpans: number; errors: string[] }> {
  return runResultChild(['./test/fixtures/stock-pg.ts'], { cwd: dbDir, env });
}

describe('db: next to @opentelemetry/instrumentation-pg in one process', function () {
  let postgres: Postgres | undefined;

  before(async function () {
    try {
      postgres = await startPostgres({ from: import.meta.url });
    } catch (err) {
      requireService(this, 'PostgreSQL', false, (err as Error).message);
    }
  });
  after(() => postgres?.stop());

  for (const order of ['tuist-first', 'stock-first']) {
    it(`${order}: both work, nothing counted twice, spans and db.client.* metrics on the same /metrics, no throw`, async () => {
      const r = await runChild({ DATABASE_URL: postgres!.url, ORDER: order });
      const exp = parseExposition(r.body);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'app', result: 'ok' })).to.equal(3);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'app', result: 'error' })).to.equal(1);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'explicit', result: 'ok' })).to.equal(1);
      expect(value(exp, 'tuist_repo_query_total_time_milliseconds_count', { repo: 'app', result: 'ok' })).to.equal(3);
      expect(value(exp, 'tuist_repo_pool_size', { repo: 'app' })).to.equal(2);
      // The stock instrumentation: a span per query, its own metrics served next to the catalog.
      expect(r.querySpans).to.be.at.least(5);
      const stockSamples = [...exp.keys()].filter((k) => k.startsWith('db_client_'));
      expect(stockSamples, [...exp.keys()].join(' ')).to.include.members(['db_client_operation_duration']);
      expect(samples(exp, 'db_client_operation_duration_count').reduce((a, s) => a + s.value, 0)).to.be.at.least(5);
      expect(r.errors).to.deep.equal([]);
    });
  }
});
