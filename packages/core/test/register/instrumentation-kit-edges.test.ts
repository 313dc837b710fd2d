import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import {
  InstrumentationRegistry,
  patchMethods,
  supportsMajor,
  TuistInstrumentationBase,
  unpatchMethods,
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
      patched.add(target);
      return exports;
    },
    unpatch(_exports, target) {
      patched.delete(target);
    },
  };
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
  afterEach(() => diag.disable());

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
});
