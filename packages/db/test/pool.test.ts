import { expect } from 'chai';
import { once } from 'node:events';
import pg from 'pg';
import { diag } from '@opentelemetry/api';
import type { Telemetry } from '@tuist-telemetry/core';
import { captureDiag, freePort, samples, scrape, sum, value, type Exposition } from '@tuist-telemetry/testing';
import { instrumentPgPool } from '@tuist-telemetry/db';
import { startPgSuite, type PgSuite } from './helpers.js';

const QUERY_COUNT = 'tuist_repo_query_count';
const QUEUE_TIME = 'tuist_repo_query_queue_time_milliseconds';
const QUERY_TIME = 'tuist_repo_query_query_time_milliseconds';
const TOTAL_TIME = 'tuist_repo_query_total_time_milliseconds';

/** A pg Client that remembers every error node-postgres hands out, to check the caller gets that very object. */
function spyClient(seen: unknown[]): typeof pg.Client {
  class SpyClient extends pg.Client {}
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  Object.defineProperty(SpyClient.prototype, 'query', {
    value(this: pg.Client, ...args: unknown[]): unknown {
      const last = args.length - 1;
      const cb = args[last];
      if (typeof cb === 'function') {
        args[last] = (err: unknown, ...rest: unknown[]) => {
          if (err) seen.push(err);
          return (cb as (...a: unknown[]) => unknown)(err, ...rest);
        };
        return query.apply(this, args);
      }
      const result = query.apply(this, args);
      if (result instanceof Promise) result.catch((err: unknown) => seen.push(err));
      return result;
    },
  });
  return SpyClient;
}

/** Resolves after `count` 'remove' events (pool.end() resolves before its clients' are emitted). */
function removals(pool: pg.Pool, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    pool.on('remove', () => {
      if (++seen === count) resolve();
    });
  });
}

/** The error a query gives on a pool without instrumentation. */
async function plainError(url: string, text: string): Promise<Error & { code?: string }> {
  const plain = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await plain.query(text);
  } catch (err) {
    return err as Error & { code?: string };
  } finally {
    await plain.end();
  }
  throw new Error(`${text} did not fail`);
}

describe('db: instrumentPgPool on a real PostgreSQL', function () {
  let t: Telemetry;
  let suite: PgSuite | undefined;
  let url: string;
  const pools: pg.Pool[] = [];

  /** A pool that is ended after the suite (before PostgreSQL stops, so idle clients do not error). */
  function newPool(config: pg.PoolConfig = {}): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, ...config });
    pool.on('error', () => {}); // idle clients ended by the server (see the termination test)
    pools.push(pool);
    return pool;
  }
  const metrics = (): Promise<Exposition> => scrape(t.url!);

  before(async function () {
    suite = await startPgSuite(this, pools);
    ({ url, telemetry: t } = suite);
  });

  after(() => suite?.stop());

  it('returns the same pool and rejects wrong arguments with a message that says what to pass', () => {
    const pool = newPool();
    expect(instrumentPgPool(pool, { name: 'same', telemetry: t })).to.equal(pool);
    expect(() => instrumentPgPool({} as pg.Pool)).to.throw(TypeError, /node-postgres Pool/);
    expect(() => instrumentPgPool(newPool(), { name: 42 as unknown as string })).to.throw(
      TypeError,
      /`name` option must be a string/,
    );
  });

  it('a burst of 10 pg_sleep(0.2) on a pool of 2: the queue fills during the burst and drains after', async () => {
    const pool = instrumentPgPool(newPool({ max: 2 }), { name: 'burst' });
    const burst = Array.from({ length: 10 }, () => pool.query('SELECT pg_sleep(0.2)'));

    // Two queries hold the connections for at least 200 ms each; the other eight wait in the pool's queue.
    const during = await metrics();
    const queued = value(during, 'tuist_repo_pool_checkout_queue_length', { repo: 'burst' });
    expect(queued).to.be.greaterThan(0).and.at.most(8);
    expect(value(during, 'tuist_repo_pool_size', { repo: 'burst' })).to.equal(2);

    await Promise.all(burst);
    const afterwards = await metrics();
    expect(value(afterwards, 'tuist_repo_pool_checkout_queue_length', { repo: 'burst' })).to.equal(0);
    expect(value(afterwards, 'tuist_repo_pool_ready_conn_count', { repo: 'burst' })).to.equal(2);
    expect(value(afterwards, 'tuist_repo_pool_db_connection_connected', { repo: 'burst' })).to.equal(2);
    expect(value(afterwards, 'tuist_repo_pool_db_connection_disconnected', { repo: 'burst' })).to.equal(0);
    expect(value(afterwards, QUERY_COUNT, { repo: 'burst', result: 'ok' })).to.equal(10);
    for (const h of [QUEUE_TIME, QUERY_TIME, TOTAL_TIME])
      expect(value(afterwards, `${h}_count`, { repo: 'burst', result: 'ok' }), h).to.equal(10);
    // pg_sleep(0.2) sleeps at least 200 ms: every query ran that long, and the eight that queued waited that long.
    expect(value(afterwards, `${QUERY_TIME}_bucket`, { repo: 'burst', result: 'ok', le: '100' })).to.equal(0);
    expect(value(afterwards, `${QUEUE_TIME}_bucket`, { repo: 'burst', result: 'ok', le: '100' })).to.be.at.most(2);
    expect(value(afterwards, `${TOTAL_TIME}_bucket`, { repo: 'burst', result: 'ok', le: '250' })).to.be.at.most(2);
  });

  it('pg_terminate_backend on a pooled connection counts a disconnect, and the pool recovers', async () => {
    const pool = instrumentPgPool(newPool({ max: 2 }), { name: 'terminated' });
    const errors: Error[] = [];
    pool.on('error', (err) => errors.push(err));
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(value(await metrics(), 'tuist_repo_pool_ready_conn_count', { repo: 'terminated' })).to.equal(1);
    // Ordinary check-out/release cycles close nothing: a disconnect is a removal, never a release.
    for (let i = 0; i < 3; i++) {
      const client = await pool.connect();
      await client.query('SELECT 1');
      client.release();
    }
    expect(value(await metrics(), 'tuist_repo_pool_db_connection_disconnected', { repo: 'terminated' })).to.equal(0);

    const removed = removals(pool, 1);
    const admin = new pg.Client(url);
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    } finally {
      await admin.end();
    }
    await removed;
    expect((errors[0] as Error & { code?: string }).code).to.equal('57P01'); // admin_shutdown, as without instrumentation

    let exp = await metrics();
    expect(value(exp, 'tuist_repo_pool_db_connection_disconnected', { repo: 'terminated' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo: 'terminated' })).to.equal(0);

    expect((await pool.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    exp = await metrics();
    expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'terminated' })).to.equal(2);
    expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo: 'terminated' })).to.equal(1);
    expect(value(exp, QUERY_COUNT, { repo: 'terminated', result: 'ok' })).to.equal(5);
  });

  it('a failing query is counted as an error and the caller gets the very error node-postgres raised', async () => {
    const seen: unknown[] = [];
    const pool = instrumentPgPool(newPool({ max: 1, Client: spyClient(seen) }), { name: 'failing' });

    const promised = await pool.query('SELECT * FROM no_such_table').catch((err: unknown) => err);
    const viaCallback = await new Promise<unknown>((resolve) => pool.query('SELECT 1/0', (err) => resolve(err)));
    const client = await pool.connect();
    const onClient = await client
      .query({ text: 'SELECT $1::int', values: ['not a number'] })
      .catch((err: unknown) => err);
    client.release();

    expect(seen).to.have.length(3);
    expect(promised).to.equal(seen[0]);
    expect(viaCallback).to.equal(seen[1]);
    expect(onClient).to.equal(seen[2]);
    expect((promised as pg.DatabaseError).code).to.equal('42P01');
    expect((viaCallback as pg.DatabaseError).code).to.equal('22012');
    expect((onClient as pg.DatabaseError).code).to.equal('22P02');

    const plain = await plainError(url, 'SELECT * FROM no_such_table');
    expect(promised).to.be.instanceOf(plain.constructor);
    expect({ ...(promised as object), message: (promised as Error).message }).to.deep.equal({
      ...plain,
      message: plain.message,
    });

    const exp = await metrics();
    expect(value(exp, QUERY_COUNT, { repo: 'failing', result: 'error' })).to.equal(3);
    expect(samples(exp, QUERY_COUNT, { repo: 'failing', result: 'ok' })).to.have.length(0);
    expect(value(exp, `${QUERY_TIME}_count`, { repo: 'failing', result: 'error' })).to.equal(3);
    // No SQL text anywhere in the labels.
    for (const family of exp.values()) {
      for (const s of family.samples)
        for (const v of Object.values(s.labels)) expect(v).not.to.match(/select|no_such_table/i);
    }
  });

  it('a refused connection reaches the caller and is counted as a failed query, with no crash', async () => {
    const port = await freePort();
    const refusedUrl = `postgres://postgres:x@127.0.0.1:${port}/postgres`;
    const pool = new pg.Pool({ connectionString: refusedUrl, max: 2 });
    pools.push(pool);
    instrumentPgPool(pool, { name: 'refused' });

    const promised = (await pool.query('SELECT 1').catch((err: unknown) => err)) as Error & { code?: string };
    const viaCallback = await new Promise<Error & { code?: string }>((resolve) =>
      pool.query('SELECT 1', (err) => resolve(err as Error)),
    );
    const connectError = (await pool.connect().catch((err: unknown) => err)) as Error & { code?: string };
    for (const err of [promised, viaCallback, connectError]) {
      expect(err).to.be.instanceOf(Error);
      expect(err.code).to.equal('ECONNREFUSED');
    }
    const plain = new pg.Pool({ connectionString: refusedUrl, max: 2 });
    const plainErr = (await plain.query('SELECT 1').catch((err: unknown) => err)) as Error & { code?: string };
    await plain.end();
    expect(promised.message).to.equal(plainErr.message);
    expect(promised.constructor).to.equal(plainErr.constructor);
    expect(pool.totalCount).to.equal(0);

    const exp = await metrics();
    // The two pool.query calls failed before reaching a connection; pool.connect() is not a query.
    expect(value(exp, QUERY_COUNT, { repo: 'refused', result: 'error' })).to.equal(2);
    expect(value(exp, `${QUEUE_TIME}_count`, { repo: 'refused', result: 'error' })).to.equal(2);
    expect(value(exp, `${TOTAL_TIME}_count`, { repo: 'refused', result: 'error' })).to.equal(2);
    expect(sum(exp, `${QUERY_TIME}_count`, { repo: 'refused' })).to.equal(0);
    expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'refused' })).to.equal(0);
    expect(value(exp, 'tuist_repo_pool_db_connection_disconnected', { repo: 'refused' })).to.equal(0);
  });

  it('two named pools keep their series apart by repo; an ended pool drops its gauges', async () => {
    const alpha = instrumentPgPool(newPool({ max: 3 }), { name: 'alpha' });
    const beta = instrumentPgPool(newPool({ max: 1 }), { name: 'beta' });
    await alpha.query('SELECT 1');
    await alpha.query('SELECT 2');
    await beta.query('SELECT 3');

    let exp = await metrics();
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'alpha' })).to.equal(3);
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'beta' })).to.equal(1);
    expect(value(exp, QUERY_COUNT, { repo: 'alpha', result: 'ok' })).to.equal(2);
    expect(value(exp, QUERY_COUNT, { repo: 'beta', result: 'ok' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'alpha' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'beta' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_ready_conn_count', { repo: 'alpha' })).to.equal(1);

    const betaRemoved = removals(beta, 1);
    await beta.end();
    await betaRemoved;
    exp = await metrics();
    expect(samples(exp, 'tuist_repo_pool_ready_conn_count', { repo: 'beta' })).to.have.length(0);
    expect(samples(exp, 'tuist_repo_pool_size', { repo: 'beta' })).to.have.length(0);
    expect(value(exp, 'tuist_repo_pool_db_connection_disconnected', { repo: 'beta' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'alpha' })).to.equal(3);
  });

  it('a transaction on a checked-out client: every statement timed, the checkout wait on the first', async () => {
    const pool = instrumentPgPool(newPool({ max: 1 }), { name: 'tx' });
    // A fresh table, so a shared TEST_DATABASE_URL gives the same counts on every run (dropped below).
    const table = `tx_items_${process.pid}_${Date.now()}`;
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [1, 'one']);
      const failed = await client
        .query(`INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [1, 'again'])
        .catch((err: unknown) => err);
      expect((failed as pg.DatabaseError).code).to.equal('23505');
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await new Promise<void>((resolve, reject) =>
        client.query(`INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [2, 'two'], (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      const arrays = await client.query({ text: `SELECT id, label FROM ${table} ORDER BY id`, rowMode: 'array' });
      expect(arrays.rows).to.deep.equal([[2, 'two']]);
      // A submittable (pg's own Query here; pg-cursor and pg-query-stream take the same path).
      const rows: unknown[] = [];
      const stream = client.query(new pg.Query('SELECT generate_series(1, 3) AS n'));
      stream.on('row', (row: unknown) => rows.push(row));
      await once(stream, 'end');
      expect(rows).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await client.query('COMMIT');
      // config.callback style, and a call node-postgres rejects synchronously (same TypeError, counted as an error).
      const viaConfig = await new Promise<unknown>((resolve, reject) =>
        client.query({
          text: 'SELECT 1 AS one',
          callback: (err: Error | null, res: pg.QueryResult) => (err ? reject(err) : resolve(res.rows)),
        } as pg.QueryConfig),
      );
      expect(viaConfig).to.deep.equal([{ one: 1 }]);
      expect(() => client.query(null as unknown as string)).to.throw(TypeError, /null or undefined query/);
    } finally {
      client.release();
    }
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).to.equal(1);

    const exp = await metrics();
    await pool.query(`DROP TABLE ${table}`);
    // CREATE, BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, SELECT, Query, COMMIT, SELECT 1, count = 11 ok;
    // the duplicate key and the null query are errors.
    expect(value(exp, QUERY_COUNT, { repo: 'tx', result: 'ok' })).to.equal(11);
    expect(value(exp, QUERY_COUNT, { repo: 'tx', result: 'error' })).to.equal(2);
    expect(value(exp, `${QUERY_TIME}_count`, { repo: 'tx', result: 'ok' })).to.equal(11);
    expect(value(exp, `${TOTAL_TIME}_count`, { repo: 'tx', result: 'ok' })).to.equal(11);
    // Three checkouts (CREATE via pool.query, the transaction's client, the count): three queue-time samples.
    expect(value(exp, `${QUEUE_TIME}_count`, { repo: 'tx', result: 'ok' })).to.equal(3);
    expect(samples(exp, `${QUEUE_TIME}_count`, { repo: 'tx', result: 'error' })).to.have.length(0);
  });

  it('instrumenting a pool twice counts once', async () => {
    const pool = newPool({ max: 1 });
    const logged = captureDiag(diag);
    try {
      instrumentPgPool(pool, { name: 'twice' });
      expect(instrumentPgPool(pool, { name: 'twice' })).to.equal(pool);
      instrumentPgPool(pool, { name: 'other-name' }); // ignored (with a warning)
    } finally {
      logged.restore();
    }
    expect(logged.lines).to.have.length(1);
    expect(logged.lines[0]).to.contain('this pool is instrumented already (name "twice"); the second call was ignored');
    for (let i = 0; i < 3; i++) await pool.query('SELECT $1::int AS i', [i]);
    const client = await pool.connect();
    await client.query('SELECT 1');
    client.release();
    // Callback-style checkout: the same client again, wrapped once.
    await new Promise<void>((resolve, reject) =>
      pool.connect((err, c, done) => {
        if (err || !c) return reject(err);
        c.query('SELECT 2', (qerr) => {
          done();
          return qerr ? reject(qerr) : resolve();
        });
      }),
    );

    const exp = await metrics();
    expect(value(exp, QUERY_COUNT, { repo: 'twice', result: 'ok' })).to.equal(5);
    expect(value(exp, `${QUEUE_TIME}_count`, { repo: 'twice', result: 'ok' })).to.equal(5);
    expect(value(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'twice' })).to.equal(1);
    expect(value(exp, 'tuist_repo_pool_size', { repo: 'twice' })).to.equal(1);
    expect(samples(exp, QUERY_COUNT, { repo: 'other-name' })).to.have.length(0);
  });

  it('a rejection the caller ignores is still reported as unhandled, with the same error', async () => {
    // Mocha listens for unhandled rejections itself; stand in for it during this test.
    const mochaListeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const seen: unknown[] = [];
      const pool = instrumentPgPool(newPool({ max: 1, Client: spyClient(seen) }), { name: 'ignored' });
      const client = await pool.connect();
      void client.query('SELECT * FROM ignored_missing_table'); // fire and forget
      await client.query('SELECT 1'); // queued behind it on the same connection
      client.release();
      const refused = instrumentPgPool(
        new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${await freePort()}/x` }),
        { name: 'ignored-refused' },
      );
      pools.push(refused);
      void refused.connect(); // fire and forget
      for (let i = 0; i < 100 && unhandled.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).to.have.length(2);
      expect(unhandled[0]).to.equal(seen[0]);
      expect((unhandled[1] as Error & { code?: string }).code).to.equal('ECONNREFUSED');
      expect(value(await metrics(), QUERY_COUNT, { repo: 'ignored', result: 'error' })).to.equal(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const l of mochaListeners) process.on('unhandledRejection', l);
    }
  });

  it('a pool without a name: the series carry no repo label', async () => {
    const pool = instrumentPgPool(newPool({ max: 4 }));
    await pool.query('SELECT 1');
    let exp = await metrics();
    const unlabelled = (name: string, labels: Record<string, string> = {}) =>
      samples(exp, name, labels).filter((s) => !('repo' in s.labels));
    expect(unlabelled(QUERY_COUNT, { result: 'ok' }).map((s) => s.value)).to.deep.equal([1]);
    expect(unlabelled('tuist_repo_pool_size').map((s) => s.value)).to.deep.equal([4]);
    expect(unlabelled('tuist_repo_pool_ready_conn_count').map((s) => s.value)).to.deep.equal([1]);
    expect(unlabelled('tuist_repo_pool_db_connection_connected').map((s) => s.value)).to.deep.equal([1]);

    const removed = removals(pool, 1);
    await pool.end();
    await removed;
    exp = await metrics();
    expect(unlabelled('tuist_repo_pool_ready_conn_count').map((s) => s.value)).to.deep.equal([0]);
    expect(unlabelled('tuist_repo_pool_db_connection_disconnected').map((s) => s.value)).to.deep.equal([1]);
  });
});
