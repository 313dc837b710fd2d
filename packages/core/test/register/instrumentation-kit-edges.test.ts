import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import {
  channelSubscription,
  InstrumentationRegistry,
  patchMethods,
  supportsMajor,
  TuistInstrumentationBase,
  unpatchMethods,
  type Method,
  type PatchedModule,
} from '@tuist-telemetry/core/internal';

/**
 * The instrumentation kit's edges that storage's and http's edge tests exercise through their instrumentations, here
 * in core so that the kit's own mutation shard counts them (in Stryker's sandbox the other packages reach the
 * checkout's core, not the mutated copy): enable/disable run their hooks once, `last` only for the last instance,
 * the module hook's unpatch, an unrecognised module, the attributes of a patched method, version strings.
 */
describe('core/internal: instrumentation kit edges', () => {
  const registry = new InstrumentationRegistry<Kit>();
  const patched = new Set<unknown>();
  const mod: PatchedModule<object> = {
    name: 'edge-module',
    majors: [1, 1],
    supported: 'edge-module 1.x is',
    lost: 'nothing is measured',
    find: (exports) => ((exports as { ok?: boolean }).ok ? (exports as object) : undefined),
    unrecognised: (version) => `edge-module ${String(version)} does not look like itself`,
    patch(exports, target) {
      if (throwing === 'patch') throw new Error('patch broke');
      patched.add(target);
      return exports;
    },
    unpatch(_exports, target) {
      if (throwing === 'unpatch') throw new Error('unpatch broke');
      patched.delete(target);
    },
  };
  let throwing: 'patch' | 'unpatch' | 'onDisable' | undefined;
  const hooks: string[] = [];
  class Kit extends TuistInstrumentationBase {
    constructor(enabled: boolean) {
      super('edge', '0.0.0', { enabled });
    }
    protected get registry(): InstrumentationRegistry<Kit> {
      return registry;
    }
    protected get lost(): string {
      return 'nothing is measured';
    }
    protected init() {
      return [this.moduleDefinition(mod)];
    }
    protected override onEnable(): void {
      hooks.push('enable');
    }
    protected override onDisable(last: boolean): void {
      if (throwing === 'onDisable') throw new Error('onDisable broke');
      hooks.push(`disable last=${last}`);
    }
    definition() {
      return this.getModuleDefinitions()[0]!;
    }
  }
  let lines: string[];
  beforeEach(() => {
    lines = [];
    hooks.length = 0;
    const push = (...args: unknown[]): void => void lines.push(args.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
  });
  afterEach(() => {
    throwing = undefined;
    diag.disable();
  });

  it('enable() and disable() twice run their hooks once; `last` only when no instance stays enabled', () => {
    const a = new Kit(false);
    const b = new Kit(false);
    a.enable();
    a.enable();
    b.enable();
    a.disable();
    a.disable();
    b.disable();
    expect(hooks).to.deep.equal(['enable', 'enable', 'disable last=false', 'disable last=true']);
  });

  it("the module hook's unpatch keeps the patch while an instance is enabled, and removes it when none is", () => {
    const a = new Kit(true);
    const other = new Kit(false);
    const exports = { ok: true };
    a.definition().patch!(exports, '1.0.0');
    expect(patched.has(exports)).to.equal(true);
    other.definition().unpatch!(exports, '1.0.0');
    expect(patched.has(exports)).to.equal(true);
    a.disable();
    expect(patched.has(exports)).to.equal(false);
    a.definition().patch!(exports, '1.0.0');
    a.definition().unpatch!(exports, '1.0.0');
    expect(patched.has(exports), 'nothing enabled: the hook unpatches').to.equal(false);
  });

  it('a module that does not look like itself is named in a warning and never patched', () => {
    const k = new Kit(false);
    const odd = { ok: false };
    expect(k.definition().patch!(odd, '1.0.0')).to.equal(odd);
    expect(patched.has(undefined)).to.equal(false);
    expect(patched.size).to.equal(0);
    expect(lines).to.deep.equal(['edge edge-module 1.0.0 does not look like itself']);
  });

  it('a patched method keeps the attributes of an own property; an inherited one gets a writable, hidden own wrapper', () => {
    const key = Symbol('edge-patch');
    const own = { m: () => 1 };
    patchMethods(own, key, {
      m:
        (next) =>
        (...args) =>
          next()(...args),
    });
    expect(Object.getOwnPropertyDescriptor(own, 'm')).to.include({
      enumerable: true,
      writable: true,
      configurable: true,
    });
    class Base {
      m(): number {
        return 2;
      }
    }
    class Child extends Base {}
    patchMethods(Child.prototype, key, {
      m:
        (next) =>
        (...args) =>
          next()(...args),
    });
    expect(Object.getOwnPropertyDescriptor(Child.prototype, 'm')).to.include({
      enumerable: false,
      writable: true,
      configurable: true,
    });
    expect(new Child().m()).to.equal(2);
    unpatchMethods(Child.prototype, key);
    expect(Object.hasOwn(Child.prototype, 'm')).to.equal(false);
    expect(() => unpatchMethods({}, key)).not.to.throw();
  });

  it('versions: the major is the leading number before a dot; anything else is given the benefit of the doubt', () => {
    expect(supportsMajor('10.0.0', [1, 1])).to.equal(false);
    expect(supportsMajor('1.9.0', [1, 1])).to.equal(true);
    expect(supportsMajor('v2.0.0', [1, 1])).to.equal(true);
    expect(supportsMajor('2', [1, 1])).to.equal(true);
    expect(supportsMajor(undefined, [1, 1])).to.equal(true);
  });

  /** A folder whose node_modules holds a fresh copy of `edge-module` 1.0.0 (each load is a new module to hook). */
  const folders: string[] = [];
  const requireFresh = (): { ok: boolean } => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-kit-edge-'));
    folders.push(dir);
    const at = path.join(dir, 'node_modules', 'edge-module');
    mkdirSync(at, { recursive: true });
    writeFileSync(path.join(at, 'package.json'), JSON.stringify({ name: 'edge-module', version: '1.0.0' }));
    writeFileSync(path.join(at, 'index.js'), 'module.exports = { ok: true };');
    return createRequire(path.join(dir, 'app.js'))('edge-module') as { ok: boolean };
  };
  after(() => {
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it("a module required while enabled is patched through OpenTelemetry's require hook; after disable() it is not", () => {
    const k = new Kit(false);
    k.enable();
    const loaded = requireFresh();
    expect(patched.has(loaded), 'required while enabled').to.equal(true);
    k.disable();
    expect(patched.has(loaded), 'unpatched by disable()').to.equal(false);
    const later = requireFresh();
    expect(patched.has(later), 'required after disable()').to.equal(false);
  });

  it('a patch, unpatch or onDisable that throws is reported through diag, never thrown into the host', () => {
    registry.modules.clear(); // the modules earlier tests patched: only this test's one is unpatched below
    const k = new Kit(true);
    const exports = { ok: true };
    throwing = 'patch';
    expect(k.definition().patch!(exports, '1.0.0')).to.equal(exports);
    expect(patched.has(exports)).to.equal(false);
    throwing = undefined;
    k.definition().patch!(exports, '1.0.0');
    throwing = 'unpatch';
    expect(() => k.disable()).not.to.throw();
    expect(k.isEnabled()).to.equal(false);
    throwing = 'onDisable';
    k.enable();
    expect(() => k.disable()).not.to.throw();
    throwing = undefined;
    registry.modules.delete(exports);
    patched.delete(exports);
    expect(lines.map((l) => l.split(' Error: ')[0])).to.deep.equal([
      'edge patching edge-module failed; nothing is measured',
      'edge unpatching failed',
      'edge disable failed',
    ]);
  });

  it('InstrumentationRegistry: adding an instance twice keeps it once; deleting one it never had changes nothing', () => {
    const r = new InstrumentationRegistry<object>();
    const a = {};
    const b = {};
    r.add(a);
    r.add(a);
    r.delete(a);
    expect(r.any, 'added twice, deleted once').to.equal(false);
    r.add(a);
    r.delete(b);
    expect(r.has(a), 'deleting a stranger').to.equal(true);
    expect(r.first).to.equal(a);
  });

  it('channelSubscription: a single holder starts it; a channel given as an object; no beforeStart', () => {
    const channel = diagnosticsChannel.channel('tuist-telemetry.test.kit-edges');
    const seen: unknown[] = [];
    const shared = channelSubscription([[channel, (m) => seen.push(m)]]);
    const release = shared.acquire();
    expect(channel.hasSubscribers, 'the first holder subscribes').to.equal(true);
    channel.publish(1);
    release();
    expect(channel.hasSubscribers).to.equal(false);
    channel.publish(2);
    const again = shared.acquire();
    channel.publish(3);
    again();
    expect(seen).to.deep.equal([1, 3]);
  });

  it('patched, unpatched, patched again: the recorded wrapper is back where the original is', () => {
    const key = Symbol('edge-repatch');
    const target = { m: (x: unknown) => `m ${String(x)}` };
    const original = target.m;
    const wrap = (next: () => Method): Method =>
      function (this: unknown, ...args: unknown[]): unknown {
        return `wrapped ${String(next().apply(this, args))}`;
      };
    patchMethods(target, key, { m: wrap });
    const ours = target.m;
    unpatchMethods(target, key);
    expect(target.m).to.equal(original);
    patchMethods(target, key, { m: wrap });
    expect(target.m, 'the same wrapper as before').to.equal(ours);
    expect(target.m(1)).to.equal('wrapped m 1');
  });
});
