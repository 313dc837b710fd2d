import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { captureDiag } from '@tuist-telemetry/testing';
import { TuistPgInstrumentation } from '@tuist-telemetry/db';

/**
 * The edges of TuistPgInstrumentation's module definitions (what require-in-the-middle and import-in-the-middle call
 * on load), with modules of the shapes of `pg` and `pg-pool` (CommonJS exports, ES module namespaces) whose Pool
 * records nothing: where the Pool class and its prototype are found, what is swapped and put back, what is not
 * recognised, and the config hooks. Real pools on PostgreSQL are in instrumentation.test.ts and
 * instrumentation-instances.test.ts.
 */

type Fn = (...args: unknown[]) => unknown;

/** pg-pool's shape: a Pool class with connect and query on its prototype. */
function pgPoolClass() {
  return class Pool {
    connect(): string {
      return 'connected';
    }
    query(): string {
      return 'queried';
    }
  };
}

/** pg's shape: its Pool a subclass (bound to pg's Client) of pg-pool's. */
function pgModule() {
  const Base = pgPoolClass();
  class Pool extends Base {}
  return { Base, Pool, connect: Base.prototype.connect as Fn };
}

describe('db: TuistPgInstrumentation module edges (pg and pg-pool shapes, config hooks)', () => {
  const instances: TuistPgInstrumentation[] = [];
  const instrumentation = (config: ConstructorParameters<typeof TuistPgInstrumentation>[0] = {}) => {
    const i = new TuistPgInstrumentation({ enabled: false, ...config });
    instances.push(i);
    return i;
  };
  const definition = (i: TuistPgInstrumentation, name: 'pg' | 'pg-pool') =>
    i.getModuleDefinitions().find((m) => m.name === name)!;
  let logged: ReturnType<typeof captureDiag>;
  beforeEach(() => {
    logged = captureDiag(diag);
  });
  afterEach(() => {
    logged.restore();
    for (const i of instances.splice(0)) i.disable();
  });

  it("pg's CommonJS exports: Pool swapped for a stand-in, pg-pool's prototype patched; unpatch puts both back", () => {
    const m = pgModule();
    const exports = { Pool: m.Pool };
    const i = instrumentation();
    expect(definition(i, 'pg').patch!(exports, '8.11.0')).to.equal(exports);
    expect(exports.Pool).to.not.equal(m.Pool);
    expect(new exports.Pool()).to.be.instanceOf(m.Pool);
    expect(m.Base.prototype.connect).to.not.equal(m.connect);
    expect(Object.hasOwn(m.Pool.prototype, 'connect'), 'the method is patched where it lives').to.equal(false);
    definition(i, 'pg').unpatch!(exports, '8.11.0');
    expect(exports.Pool).to.equal(m.Pool);
    expect(m.Base.prototype.connect).to.equal(m.connect);
    expect(logged.lines).to.deep.equal([]);
  });

  it("pg's ES module namespace: Pool and default.Pool swapped and put back; a namespace with default.Pool only is found", () => {
    const m = pgModule();
    const def = { Pool: m.Pool };
    const ns = { Pool: m.Pool, default: def };
    const i = instrumentation();
    definition(i, 'pg').patch!(ns, '8.11.0');
    expect(ns.Pool).to.not.equal(m.Pool);
    expect(def.Pool).to.equal(ns.Pool);
    definition(i, 'pg').unpatch!(ns, '8.11.0');
    expect([ns.Pool, def.Pool]).to.deep.equal([m.Pool, m.Pool]);
    expect(m.Base.prototype.connect).to.equal(m.connect);
    // A namespace whose default export is null: its Pool alone is swapped, quietly.
    const k = pgModule();
    const nullDefault = { Pool: k.Pool, default: null };
    definition(i, 'pg').patch!(nullDefault, '8.11.0');
    expect(nullDefault.Pool).to.not.equal(k.Pool);
    definition(i, 'pg').unpatch!(nullDefault, '8.11.0');
    expect(nullDefault.Pool).to.equal(k.Pool);
    const n = pgModule();
    const onlyDefault = { default: { Pool: n.Pool } };
    definition(i, 'pg').patch!(onlyDefault, '8.0.0');
    expect(onlyDefault.default.Pool).to.not.equal(n.Pool);
    expect(n.Base.prototype.connect).to.not.equal(n.connect);
    definition(i, 'pg').unpatch!(onlyDefault, '8.0.0');
    expect(onlyDefault.default.Pool).to.equal(n.Pool);
    expect(logged.lines).to.deep.equal([]);
  });

  it('pg-pool: the CommonJS class is replaced by the stand-in it returns; an ES namespace gets it as default, put back', () => {
    const Pool = pgPoolClass();
    const connect = Pool.prototype.connect;
    const i = instrumentation();
    const standIn = definition(i, 'pg-pool').patch!(Pool, '3.6.0') as typeof Pool;
    expect(standIn).to.not.equal(Pool);
    expect(new standIn()).to.be.instanceOf(Pool);
    expect(Pool.prototype.connect).to.not.equal(connect);
    definition(i, 'pg-pool').unpatch!(Pool, '3.6.0');
    expect(Pool.prototype.connect).to.equal(connect);
    expect(definition(i, 'pg-pool').patch!(standIn, '3.6.0'), 'the stand-in is not wrapped again').to.equal(standIn);
    const Other = pgPoolClass();
    const ns = { default: Other };
    expect(definition(i, 'pg-pool').patch!(ns, '2.0.0')).to.equal(ns);
    expect(ns.default).to.not.equal(Other);
    definition(i, 'pg-pool').unpatch!(ns, '2.0.0');
    expect(ns.default).to.equal(Other);
    expect(logged.lines).to.deep.equal([]);
  });

  it('a module that does not look like node-postgres is named in one warning per instance and left as it is', () => {
    const odd = [
      { Pool: class {} },
      { Pool: () => {} },
      { Pool: Object.assign(function Pool() {}, { prototype: null }) },
      {
        Pool: class {
          connect() {}
        },
      },
      {
        Pool: class {
          query() {}
        },
      },
      {},
    ];
    for (const exports of odd) {
      const i = instrumentation();
      expect(definition(i, 'pg').patch!(exports, '8.1.0')).to.equal(exports);
      expect(() => definition(i, 'pg').unpatch!(exports, '8.1.0')).not.to.throw();
    }
    const queryOnly = class {
      query() {}
    };
    for (const exports of [class {}, queryOnly, Object.assign(function Pool() {}, { prototype: null }), undefined, 5]) {
      const i = instrumentation();
      expect(definition(i, 'pg-pool').patch!(exports, undefined)).to.equal(exports);
    }
    expect(logged.lines).to.deep.equal([
      ...odd.map(
        () =>
          'warn: @tuist-telemetry/db pg 8.1.0 does not look like node-postgres (no Pool.prototype.connect/query); not instrumented',
      ),
      ...[1, 2, 3, 4, 5].map(
        () =>
          'warn: @tuist-telemetry/db pg-pool does not look like node-postgres (no Pool.prototype.connect/query); not instrumented',
      ),
    ]);
  });

  it('another major is skipped with a warning naming the supported ones; a failing enable() says what the host loses', () => {
    const m = pgModule();
    expect(definition(instrumentation(), 'pg').patch!({ Pool: m.Pool }, '9.0.0')).to.deep.equal({ Pool: m.Pool });
    expect(m.Base.prototype.connect).to.equal(m.connect);
    class Failing extends TuistPgInstrumentation {
      protected override onEnable(): void {
        throw new Error('cannot patch');
      }
    }
    const f = new Failing();
    instances.push(f);
    expect(f.isEnabled()).to.equal(false);
    expect(logged.lines).to.deep.equal([
      'warn: @tuist-telemetry/db pg 9.0.0 is not supported (pg 8.x are); its pools are not instrumented',
      'error: @tuist-telemetry/db enable failed; pools are not instrumented Error: cannot patch',
    ]);
  });

  it('poolName: a non-empty string names the pool; anything else, or no hook, leaves it unnamed without a warning', () => {
    expect(instrumentation().nameOf({})).to.equal(undefined);
    const answers: unknown[] = ['orders', '', 5, undefined, null];
    const i = instrumentation({ poolName: () => answers.shift() as string });
    expect([i.nameOf({}), i.nameOf({}), i.nameOf({}), i.nameOf({}), i.nameOf({})]).to.deep.equal([
      'orders',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    i.setConfig('nonsense' as never);
    expect(i.getConfig()).to.deep.equal({ enabled: true });
    i.setConfig(null as never);
    expect(i.getConfig()).to.deep.equal({ enabled: true });
    expect(logged.lines).to.deep.equal([]);
  });
});
