import { expect } from 'chai';
import { createRequire } from 'node:module';
import type pgTypes from 'pg';
import { captureDiag, samples, scrape, sum } from '@tuist-telemetry/testing';
import { diag } from '@opentelemetry/api';
import type { Telemetry } from '@tuist-telemetry/core';
import { TuistPgInstrumentation } from '@tuist-telemetry/db';
import { startPgSuite, type PgSuite } from './helpers.js';

const require = createRequire(import.meta.url);

/**
 * More than one TuistPgInstrumentation in a process (two NodeSDKs, a test harness, a library that brings its own):
 * pools record once while at least one instance is enabled, disabling one leaves the other's patch in place, and
 * an instance enabled after `pg` was loaded (its require hook never sees the module again) still finds pools.
 */
describe('db: several TuistPgInstrumentation instances', function () {
  let suite: PgSuite | undefined;
  let url: string;
  let t: Telemetry;
  let pg: typeof pgTypes;
  const pools: pgTypes.Pool[] = [];
  const instances: TuistPgInstrumentation[] = [];
  const instrumentation = (config: { enabled?: boolean } = {}): TuistPgInstrumentation => {
    const i = new TuistPgInstrumentation({
      ...config,
      poolName: (pool) => pool.options?.application_name as string | undefined,
    });
    instances.push(i);
    return i;
  };
  /** A pool of `pg` named `repo` (through the instances' poolName). */
  const newPool = (repo: string): pgTypes.Pool => {
    const pool = new pg.Pool({ connectionString: url, max: 1, application_name: repo });
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  };
  /** How many queries one `SELECT 1` on the pool added to `tuist_repo_query_count` (0 when not measured). */
  const measured = async (pool: pgTypes.Pool): Promise<number> => {
    const labels = { repo: pool.options.application_name as string, result: 'ok' };
    const before = sum(await scrape(t.url!), 'tuist_repo_query_count', labels);
    await pool.query('SELECT 1');
    return sum(await scrape(t.url!), 'tuist_repo_query_count', labels) - before;
  };
  const hasPoolSeries = async (repo: string): Promise<boolean> =>
    samples(await scrape(t.url!), 'tuist_repo_pool_size', { repo }).length === 1;

  before(async function () {
    suite = await startPgSuite(this, pools);
    ({ url, telemetry: t } = suite);
  });
  afterEach(() => {
    for (const i of instances.splice(0)) i.disable();
  });
  after(() => suite?.stop());

  it('one disabled while the other is enabled: the patch stays and pools keep recording, once each', async () => {
    const a = instrumentation();
    pg = require('pg') as typeof pgTypes;
    const b = instrumentation({ enabled: false });
    a.disable();
    const early = newPool('made-while-off'); // found at its first use only (the prototype patch)
    a.enable();
    const old = newPool('old');
    expect(await measured(old), 'a enabled').to.equal(1);
    b.enable();
    expect(await measured(old), 'a and b: old pool').to.equal(1);
    expect(await measured(newPool('both')), 'a and b: new pool').to.equal(1);
    a.disable();
    expect(await hasPoolSeries('b-only'), 'not yet made').to.equal(false);
    const bOnly = newPool('b-only');
    expect(await hasPoolSeries('b-only'), 'found at construction, b only').to.equal(true);
    expect(await measured(bOnly), 'b only: new pool').to.equal(1);
    expect(await measured(old), 'b only: old pool').to.equal(1);
    expect(await measured(early), 'b only: a pool first used now').to.equal(1);
    b.disable();
    expect(await measured(newPool('none')), 'none enabled').to.equal(0);
    a.enable();
    expect(await measured(newPool('a-again')), 'a again').to.equal(1);
    a.enable(); // enabling twice is once: one disable() turns it off
    a.disable();
    expect(await measured(newPool('off-again')), 'both off again').to.equal(0);
  });

  it('an instance first enabled after another one was disabled finds new pools and pools first used now', async () => {
    const a = instrumentation();
    pg = require('pg') as typeof pgTypes;
    expect(await measured(newPool('a')), 'a enabled').to.equal(1);
    a.disable();
    const idle = newPool('idle-while-off');
    const idleConnect = newPool('connect-while-off');
    expect(await measured(newPool('a-off')), 'a disabled').to.equal(0);
    const late = instrumentation(); // its require hook never fires for the module already loaded
    const made = newPool('late');
    expect(await hasPoolSeries('late'), 'found at construction').to.equal(true);
    expect(await measured(made), 'late instance: new pool').to.equal(1);
    expect(await measured(idle), 'late instance: a pool first used now').to.equal(1);
    // First used through connect(): the client it hands out is the instrumented pool's.
    const labels = { repo: 'connect-while-off', result: 'ok' };
    const before = sum(await scrape(t.url!), 'tuist_repo_query_count', labels);
    const client = await idleConnect.connect();
    await client.query('SELECT 1');
    client.release();
    expect(sum(await scrape(t.url!), 'tuist_repo_query_count', labels) - before, 'first used by connect()').to.equal(1);
    late.disable();
    late.enable();
    expect(await measured(newPool('late-again')), 'late instance re-enabled').to.equal(1);
  });

  it('two pools it finds under one name: one warning that their series are added together', async () => {
    instrumentation();
    pg = require('pg') as typeof pgTypes;
    const logged = captureDiag(diag);
    try {
      newPool('found-twice');
      newPool('found-twice');
      newPool('found-once');
      expect(logged.matching(/several pools are named "found-twice"; their series are added together/)).to.have.length(
        1,
      );
      expect(logged.matching(/found-once/)).to.deep.equal([]);
    } finally {
      logged.restore();
    }
  });
});
