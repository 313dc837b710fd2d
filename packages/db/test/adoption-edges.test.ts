import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type pgTypes from 'pg';
import { diag } from '@opentelemetry/api';
import { captureDiag, samples, scrape, sum } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { TuistPgInstrumentation } from '@tuist-telemetry/db';

const require = createRequire(import.meta.url);

/**
 * How TuistPgInstrumentation adopts a pool it finds (at construction through the stand-in, or at its first use through
 * the prototype's wrappers), in-process and without PostgreSQL (issue 26): once only, also where pg's Pool class is
 * a subclass of pg-pool's stand-in; never an object that is not an event emitter; never around another
 * instrumentation's wrapper into a loop; a host call goes on when adopting fails; and a pool first used through
 * `query` has that query counted, even when it never reaches a connection.
 */

type Fn = (...args: unknown[]) => unknown;

/** pg-pool's shape, an event emitter with what the pool gauges read: a pool whose `query` answers at once. */
function emitterPoolClass() {
  return class Pool extends EventEmitter {
    options = { max: 3 };
    waitingCount = 0;
    idleCount = 1;
    connect(): string {
      return 'connected';
    }
    query(): string {
      return 'queried';
    }
  };
}

/** pg-pool's methods on a class that is no event emitter (no `on`). */
function plainPoolClass() {
  return class Pool {
    options = { max: 4 };
    connect(): string {
      return 'connected';
    }
    query(): string {
      return 'queried';
    }
  };
}

describe('db: how TuistPgInstrumentation adopts the pools it finds (issue 26)', () => {
  let t: Telemetry;
  let logged: ReturnType<typeof captureDiag>;
  const instances: TuistPgInstrumentation[] = [];
  /** An enabled instance naming every pool it finds `repo`. */
  const instrumentation = (repo: string) => {
    const i = new TuistPgInstrumentation({ poolName: () => repo });
    instances.push(i);
    return i;
  };
  const definition = (i: TuistPgInstrumentation, name: 'pg' | 'pg-pool') =>
    i.getModuleDefinitions().find((m) => m.name === name)!;
  const seriesOf = async (repo: string) =>
    [...(await scrape(t.url!)).values()].flatMap((f) => f.samples).filter((s) => s.labels.repo === repo);

  before(async () => {
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false });
    await t.ready();
  });
  beforeEach(() => {
    logged = captureDiag(diag);
  });
  afterEach(() => {
    logged.restore();
    for (const i of instances.splice(0)) i.disable();
  });
  after(() => t.shutdown());

  it("pg's Pool, a subclass of pg-pool's stand-in, swapped for its own stand-in: a new pool is instrumented once", async () => {
    const i = instrumentation('nested');
    const Base = emitterPoolClass();
    const BaseStandIn = definition(i, 'pg-pool').patch!(Base, '3.6.0') as typeof Base;
    // pg's BoundPool extends the pg-pool export it required: the stand-in, when pg-pool was loaded after enable().
    class BoundPool extends BaseStandIn {}
    const pg = { Pool: BoundPool };
    definition(i, 'pg').patch!(pg, '8.11.0');
    expect(pg.Pool).to.not.equal(BoundPool);
    const pool = new pg.Pool();
    pool.emit('connect', {});
    pool.emit('remove', {});
    const exp = await scrape(t.url!);
    expect(sum(exp, 'tuist_repo_pool_db_connection_connected', { repo: 'nested' }), 'connections opened').to.equal(1);
    expect(sum(exp, 'tuist_repo_pool_db_connection_disconnected', { repo: 'nested' }), 'closed').to.equal(1);
    expect(sum(exp, 'tuist_repo_pool_size', { repo: 'nested' }), 'pool size (max 3)').to.equal(3);
    expect(pool.query()).to.equal('queried');
    expect(logged.lines).to.deep.equal([]);
  });

  it('an object with the methods of a pool but no `on` is left alone, and its calls go on as they were', async () => {
    const i = instrumentation('not-a-pool');
    const Pool = plainPoolClass();
    const StandIn = definition(i, 'pg-pool').patch!(Pool, '3.6.0') as typeof Pool;
    const made = new StandIn();
    expect(made.query(), 'a call to the prototype wrapper').to.equal('queried');
    expect(made.connect()).to.equal('connected');
    // Its own `query` is the prototype's wrapper (a library that copied the method onto the object).
    const copied = new StandIn();
    Object.defineProperty(copied, 'query', { value: copied.query, writable: true });
    expect(Object.hasOwn(copied, 'query')).to.equal(true);
    expect(copied.query(), 'the copied wrapper').to.equal('queried');
    expect(await seriesOf('not-a-pool')).to.deep.equal([]);
    expect(logged.lines).to.deep.equal([]);
  });

  it('a pool found at construction whose prototype methods another instrumentation wrapped since: each call once', async () => {
    const i = instrumentation('wrapped-over');
    const Pool = emitterPoolClass();
    const StandIn = definition(i, 'pg-pool').patch!(Pool, '3.6.0') as typeof Pool;
    // What @opentelemetry/instrumentation-pg does after us: its wrapper on the prototype calls ours.
    const calls = { query: 0, connect: 0 };
    for (const key of ['query', 'connect'] as const) {
      const ours = Pool.prototype[key] as Fn;
      (Pool.prototype as unknown as Record<string, Fn>)[key] = function (this: unknown, ...args: unknown[]) {
        calls[key]++;
        return ours.apply(this, args);
      };
    }
    const pool = new StandIn();
    expect(await seriesOf('wrapped-over'), 'found at construction').to.not.deep.equal([]);
    expect([pool.query(), pool.connect()]).to.deep.equal(['queried', 'connected']);
    expect(calls).to.deep.equal({ query: 1, connect: 1 });
    expect(logged.lines).to.deep.equal([]);
  });

  it('a pool first used through query() after enable(): that query is counted, also when no connection is reached', async () => {
    // A port nobody listens on: pg's connect is refused at once.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const i = instrumentation('refused');
    const pg = require('pg') as typeof pgTypes;
    i.disable();
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'nobody', max: 1 });
    pool.on('error', () => {});
    try {
      expect(
        samples(await scrape(t.url!), 'tuist_repo_pool_size', { repo: 'refused' }),
        'made while disabled',
      ).to.deep.equal([]);
      i.enable();
      const err = await pool.query('SELECT 1').then(
        () => undefined,
        (e: Error) => e,
      );
      expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('ECONNREFUSED');
      expect(sum(await scrape(t.url!), 'tuist_repo_query_count', { repo: 'refused', result: 'error' })).to.equal(1);
    } finally {
      await pool.end();
    }
  });
});
