import { expect } from 'chai';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type pgTypes from 'pg';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { Telemetry } from '@tuist-telemetry/core';
import { parseExposition, runTsxChild, samples, scrape, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { instrumentPgPool, TuistPgInstrumentation } from '@tuist-telemetry/db';
import { startPgSuite, type PgSuite } from './helpers.js';

const require = createRequire(import.meta.url);
const dbDir = fileURLToPath(new URL('..', import.meta.url));

/** Warnings and errors that reach OTel's diag while `fn` runs. */
function captureDiag(): { lines: string[]; stop: () => void } {
  const lines: string[] = [];
  const push = (...a: unknown[]): number => lines.push(a.map(String).join(' '));
  diag.setLogger(
    { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  return { lines, stop: () => diag.disable() };
}

describe('db: TuistPgInstrumentation', function () {
  let suite: PgSuite | undefined;
  let url: string;
  let t: Telemetry;
  const pools: pgTypes.Pool[] = [];
  const metrics = (): Promise<Exposition> => scrape(t.url!);

  before(async function () {
    suite = await startPgSuite(this, pools);
    ({ url, telemetry: t } = suite);
  });

  after(() => suite?.stop());

  describe('CJS: require("pg") in this process', () => {
    let inst: TuistPgInstrumentation;
    let pg: typeof pgTypes;
    const newPool = (config: pgTypes.PoolConfig = {}): pgTypes.Pool => {
      const pool = new pg.Pool({ connectionString: url, ...config });
      pool.on('error', () => {});
      pools.push(pool);
      return pool;
    };

    before(() => {
      inst = new TuistPgInstrumentation({
        poolName: (pool) => (pool.options?.application_name as string | undefined) ?? 'auto',
      });
      pg = require('pg') as typeof pgTypes;
    });
    after(() => inst.disable());

    it('a pool created by anyone records pool and query series under the poolName label', async () => {
      expect(TuistPgInstrumentation.shortName).to.equal('pg');
      expect(inst.shortName).to.equal('pg');
      const pool = newPool({ max: 3, application_name: 'orm' });
      await pool.query('SELECT 1');
      await pool.query({ text: 'SELECT $1::int AS n', values: [2] });
      await pool.query('SELECT nope').catch(() => {});
      const client = await pool.connect();
      await client.query('BEGIN');
      await client.query('COMMIT');
      client.release();
      const exp = await metrics();
      expect(value(exp, 'tuist_repo_query_count', { repo: 'orm', result: 'ok' })).to.equal(4);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'orm', result: 'error' })).to.equal(1);
      expect(value(exp, 'tuist_repo_query_total_time_milliseconds_count', { repo: 'orm', result: 'ok' })).to.equal(4);
      expect(value(exp, 'tuist_repo_pool_size', { repo: 'orm' })).to.equal(3);
      expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo: 'orm' })).to.be.greaterThan(0);
      expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'orm' })).to.be.greaterThan(0);
    });

    it('instrumentPgPool on a pool it found: the explicit name wins and nothing is counted twice', async () => {
      const pool = newPool({ application_name: 'found' });
      await pool.query('SELECT 1');
      expect(instrumentPgPool(pool, { name: 'explicit' })).to.equal(pool);
      await pool.query('SELECT 1');
      await pool.query('SELECT 1');
      const again = newPool();
      instrumentPgPool(again, { name: 'explicit-first' });
      await again.query('SELECT 1');
      const exp = await metrics();
      expect(value(exp, 'tuist_repo_query_count', { repo: 'found', result: 'ok' })).to.equal(1);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'explicit', result: 'ok' })).to.equal(2);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'explicit-first', result: 'ok' })).to.equal(1);
      expect(samples(exp, 'tuist_repo_query_count', { repo: 'auto' })).to.have.length(0);
    });

    it('a throwing poolName counts as no name, with one warning; the queries work', async () => {
      const d = captureDiag();
      try {
        inst.setConfig({
          poolName: () => {
            throw new Error('hook broke');
          },
        });
        const before = sum(await metrics(), 'tuist_repo_query_count', { result: 'ok' });
        for (let i = 0; i < 2; i++) expect((await newPool().query('SELECT 7 AS n')).rows[0].n).to.equal(7);
        const exp = await metrics();
        expect(sum(exp, 'tuist_repo_query_count', { result: 'ok' }) - before).to.equal(2);
        expect(
          samples(exp, 'tuist_repo_query_count', { result: 'ok' })
            .filter((x) => !('repo' in x.labels))
            .map((x) => x.value),
        ).to.deep.equal([2]);
        expect(d.lines.filter((l) => l.includes('poolName option threw'))).to.have.length(1);
        inst.setConfig({ poolName: 'not a function' as never });
        expect(d.lines.some((l) => l.includes('poolName must be a function'))).to.equal(true);
        expect(inst.getConfig().poolName).to.equal(undefined);
        expect(() => inst.setConfig(null as never)).not.to.throw();
        expect(inst.getConfig().poolName).to.equal(undefined);
      } finally {
        d.stop();
        inst.setConfig({ poolName: () => 'auto' });
      }
    });

    it('disable and enable are idempotent; while disabled new pools record nothing', async () => {
      inst.disable();
      inst.disable();
      const off = newPool({ application_name: 'off' });
      await off.query('SELECT 1');
      expect(samples(await metrics(), 'tuist_repo_query_count', { repo: 'auto' })).to.have.length(0);
      inst.enable();
      inst.enable();
      const on = newPool();
      await on.query('SELECT 1');
      await on.query('SELECT 1');
      expect(value(await metrics(), 'tuist_repo_query_count', { repo: 'auto', result: 'ok' })).to.equal(2);
    });

    it('an unsupported pg is skipped with one diag message and runs unchanged', () => {
      const d = captureDiag();
      try {
        const other = new TuistPgInstrumentation({ enabled: false });
        const defs = other.getModuleDefinitions();
        const fake = { Pool: class {} };
        for (const def of defs.filter((m) => m.name === 'pg')) {
          expect(def.patch!(fake, '9.0.0')).to.equal(fake);
          expect(def.patch!(fake, '9.1.0')).to.equal(fake);
        }
        expect(d.lines.filter((l) => l.includes('pg 9.0.0 is not supported (pg 8.x are)'))).to.have.length(1);
        expect(d.lines, 'one message per instance').to.have.length(1);
        const pool = new TuistPgInstrumentation({ enabled: false })
          .getModuleDefinitions()
          .find((m) => m.name === 'pg-pool')!;
        expect(pool.patch!(fake, '4.0.0')).to.equal(fake);
        expect(d.lines.filter((l) => l.includes('pg-pool 4.0.0 is not supported (pg-pool 2-3.x are)'))).to.have.length(
          1,
        );
      } finally {
        d.stop();
      }
    });
    it('a pool created after enable and never used has its pool series on a scrape (pg.Pool, a subclass, pg-pool)', async () => {
      inst.setConfig({ poolName: (pool) => pool.options?.application_name as string | undefined });
      const idle = newPool({ max: 4, application_name: 'idle' });
      class OrmPool extends pg.Pool {}
      const sub = new OrmPool({ connectionString: url, max: 2, application_name: 'idle-sub' });
      const PgPool = require('pg-pool') as new (config: object) => pgTypes.Pool;
      const direct = new PgPool({ connectionString: url, max: 3, application_name: 'idle-pg-pool', Client: pg.Client });
      pools.push(sub, direct);
      expect(idle).to.be.instanceOf(pg.Pool);
      expect(sub).to.be.instanceOf(OrmPool).and.instanceOf(pg.Pool).and.instanceOf(PgPool);
      let exp = await metrics();
      for (const [repo, max] of [
        ['idle', 4],
        ['idle-sub', 2],
        ['idle-pg-pool', 3],
      ] as const) {
        expect(value(exp, 'tuist_repo_pool_size', { repo }), repo).to.equal(max);
        expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo }), repo).to.equal(0);
        expect(value(exp, 'tuist_repo_pool_checkout_queue_length', { repo }), repo).to.equal(0);
        expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo }), repo).to.equal(0);
        expect(value(exp, 'tuist_repo_pool_db_connection_disconnected', { repo }), repo).to.equal(0);
      }
      // Found at construction, then named explicitly: counted once, under the explicit name only.
      instrumentPgPool(idle, { name: 'idle-explicit' });
      await idle.query('SELECT 1');
      exp = await metrics();
      expect(value(exp, 'tuist_repo_query_count', { repo: 'idle-explicit', result: 'ok' })).to.equal(1);
      expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'idle-explicit' })).to.equal(1);
      expect(value(exp, 'tuist_repo_pool_size', { repo: 'idle-explicit' })).to.equal(4);
      expect(samples(exp, 'tuist_repo_pool_size', { repo: 'idle' })).to.have.length(0);
    });

    it('a pool made while disabled is not picked up at construction, but at its first use once enabled', async () => {
      inst.setConfig({ poolName: (pool) => pool.options?.application_name as string | undefined });
      inst.disable();
      const early = newPool({ max: 5, application_name: 'early' });
      expect(samples(await metrics(), 'tuist_repo_pool_size', { repo: 'early' })).to.have.length(0);
      inst.enable();
      expect(samples(await metrics(), 'tuist_repo_pool_size', { repo: 'early' })).to.have.length(0);
      await early.query('SELECT 1');
      const exp = await metrics();
      expect(value(exp, 'tuist_repo_pool_size', { repo: 'early' })).to.equal(5);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'early', result: 'ok' })).to.equal(1);
    });
  });

  describe('ESM: import pg from "pg" in a child process with the loader hook', () => {
    /** Runs an ESM fixture app with the loader hook and TuistPgInstrumentation; returns what it printed. */
    async function runApp(app: string): Promise<{ out: string; exp: Exposition }> {
      const {
        code,
        output: out,
        stdout,
      } = await runTsxChild(['--import', './test/fixtures/register-pg.ts', app], {
        cwd: dbDir,
        env: { DATABASE_URL: url, POOL_NAME: 'esm' },
      });
      expect(code, out).to.equal(0);
      // From stdout alone: a warning on stderr (an extra line once broke the exposition in a mutation dry run).
      return { out, exp: parseExposition(stdout.slice(stdout.indexOf('EXPOSITION\n') + 11)) };
    }

    it("pools created through pg-pool, pg's default and named exports and never used have their pool series", async () => {
      const { out, exp } = await runApp('./test/fixtures/esm-idle-app.mjs');
      expect(JSON.parse(/^CHECKS (.*)$/m.exec(out)![1]!), out).to.deep.equal({
        instanceOfPgPool: true,
        instanceOfPg: true,
      });
      for (const [repo, max] of [
        ['esm-pg-pool', 4],
        ['esm-default', 2],
        ['esm-named', 3],
      ] as const) {
        expect(value(exp, 'tuist_repo_pool_size', { repo }), `${repo}\n${out}`).to.equal(max);
        expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo }), repo).to.equal(0);
        expect(value(exp, 'tuist_repo_pool_checkout_queue_length', { repo }), repo).to.equal(0);
        expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo }), repo).to.equal(0);
      }
    });

    it('an app that imports no @tuist-telemetry package gets pool and query series', async () => {
      const { out, exp } = await runApp('./test/fixtures/esm-app.mjs');
      expect(value(exp, 'tuist_repo_query_count', { repo: 'esm', result: 'ok' }), out).to.equal(3);
      expect(value(exp, 'tuist_repo_query_count', { repo: 'esm', result: 'error' })).to.equal(1);
      expect(value(exp, 'tuist_repo_pool_size', { repo: 'esm' })).to.equal(2);
      expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'esm' })).to.be.greaterThan(0);
    });
  });
});
