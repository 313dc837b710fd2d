import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
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

type Greeter = { greet(this: unknown, name: string): string };

const KEY = Symbol('test.patch');
const shout = (next: () => Method): Method =>
  function (this: unknown, ...args: unknown[]): unknown {
    return String(next().apply(this, args)).toUpperCase();
  };

describe('core/internal: the instrumentation scaffold', () => {
  describe('patchMethods / unpatchMethods', () => {
    it('wraps an own method, and unpatching restores it', () => {
      const original = function (name: string): string {
        return `hi ${name}`;
      };
      const target: Greeter = { greet: original };
      patchMethods(target, KEY, { greet: shout });
      expect(target.greet('ann')).to.equal('HI ANN');
      unpatchMethods(target, KEY);
      expect(target.greet).to.equal(original);
    });

    it('a wrapper put on top later stays on unpatch and runs ours, which is put back only where the original is', () => {
      const target: Greeter = { greet: (name: string) => `hi ${name}` };
      patchMethods(target, KEY, { greet: shout });
      const ours = target.greet;
      const theirs = function (this: unknown, name: string): string {
        return `[${ours.call(this, name)}]`;
      };
      target.greet = theirs;
      unpatchMethods(target, KEY);
      expect(target.greet, 'theirs is not removed').to.equal(theirs);
      patchMethods(target, KEY, { greet: shout });
      expect(target.greet, 'ours is not put over theirs').to.equal(theirs);
      expect(target.greet('bo')).to.equal('[HI BO]');
    });

    it('patching again under the same key (a second copy of a package) reuses the first patch, never wraps twice', () => {
      const target: Greeter = { greet: (name: string) => `hi ${name}` };
      patchMethods(target, KEY, { greet: shout });
      const first = target.greet;
      patchMethods(target, KEY, {
        greet:
          (next) =>
          (...args: unknown[]) =>
            `twice ${String(next()(...args))}`,
      });
      expect(target.greet).to.equal(first);
      expect(target.greet('cy')).to.equal('HI CY');
    });

    it('an inherited method: an own wrapper that calls what the parent has at the time; unpatching deletes it', () => {
      const parent: Greeter = { greet: (name: string) => `hi ${name}` };
      const child = Object.create(parent) as Greeter;
      patchMethods(child, KEY, { greet: shout });
      expect(Object.hasOwn(child, 'greet')).to.equal(true);
      expect(Object.keys(child), 'not enumerable').to.deep.equal([]);
      parent.greet = (name: string) => `hello ${name}`;
      expect(child.greet('di')).to.equal('HELLO DI');
      unpatchMethods(child, KEY);
      expect(Object.hasOwn(child, 'greet')).to.equal(false);
    });
  });

  it('supportsMajor: within the majors, and an unknown or unreadable version is given the benefit of the doubt', () => {
    expect(supportsMajor('8.11.3', [8, 8])).to.equal(true);
    expect(supportsMajor('9.0.0', [8, 8])).to.equal(false);
    expect(supportsMajor('1.9.0', [2, 3])).to.equal(false);
    expect(supportsMajor('3.0.0', [2, 3])).to.equal(true);
    expect(supportsMajor(undefined, [2, 3])).to.equal(true);
    expect(supportsMajor('next', [2, 3])).to.equal(true);
  });

  it('channelSubscription: subscribed from the first holder to the last release; a second release does nothing', () => {
    const name = 'tuist-telemetry.test.kit';
    const seen: unknown[] = [];
    let starts = 0;
    const shared = channelSubscription([[name, (m) => seen.push(m)]], () => starts++);
    const channel = diagnosticsChannel.channel(name);
    const a = shared.acquire();
    const b = shared.acquire();
    expect(starts).to.equal(1);
    channel.publish(1);
    a();
    a();
    channel.publish(2);
    b();
    channel.publish(3);
    expect(seen).to.deep.equal([1, 2]);
    expect(channel.hasSubscribers).to.equal(false);
  });

  describe('TuistInstrumentationBase', () => {
    const registry = new InstrumentationRegistry<Kit>();
    const patched = new Set<object>();
    const mod: PatchedModule<object> = {
      name: 'kit-module',
      majors: [1, 1],
      supported: 'kit-module 1.x is',
      lost: 'nothing is measured',
      find: (exports) => ((exports as { ok?: boolean }).ok ? (exports as object) : undefined),
      unrecognised: () => 'kit-module does not look like itself',
      patch(exports, target) {
        patched.add(target);
        return exports;
      },
      unpatch(_exports, target) {
        if (target !== undefined) patched.delete(target);
      },
    };
    let failing = false;
    class Kit extends TuistInstrumentationBase {
      constructor(enabled: boolean) {
        super('kit', '0.0.0', { enabled });
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
        if (failing) throw new Error('boom');
      }
      definition() {
        return this.getModuleDefinitions()[0]!;
      }
    }
    let lines: string[];
    beforeEach(() => {
      lines = [];
      const push = (...args: unknown[]): void => void lines.push(args.map(String).join(' '));
      diag.setLogger(
        { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    });
    afterEach(() => {
      failing = false;
      diag.disable();
    });

    it('a module one instance patched is patched again for an instance enabled later, unpatched with the last one', () => {
      const a = new Kit(false);
      const exports = { ok: true };
      a.enable();
      a.definition().patch!(exports, '1.2.0');
      expect(patched.has(exports)).to.equal(true);
      a.disable();
      expect(patched.has(exports), 'the last instance disabled unpatches').to.equal(false);
      const b = new Kit(true);
      expect(patched.has(exports), 'b never saw the module').to.equal(true);
      expect(registry.first).to.equal(b);
      a.enable();
      b.disable();
      expect(registry.first).to.equal(a);
      expect(patched.has(exports), 'a is still enabled').to.equal(true);
      a.disable();
      expect(patched.has(exports)).to.equal(false);
    });

    it('one warning per instance for an unsupported or unrecognised module, which is left as it is', () => {
      const k = new Kit(false);
      const exports = { ok: true };
      expect(k.definition().patch!(exports, '2.0.0')).to.equal(exports);
      expect(k.definition().patch!({ ok: false }, '1.0.0')).to.deep.equal({ ok: false });
      expect(patched.has(exports)).to.equal(false);
      expect(lines).to.deep.equal(['kit kit-module 2.0.0 is not supported (kit-module 1.x is); nothing is measured']);
    });

    it('enable never throws: a failure is reported once and the instance stays disabled; disable is idempotent', () => {
      failing = true;
      const k = new Kit(true);
      expect(k.isEnabled()).to.equal(false);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^kit enable failed; nothing is measured/);
      failing = false;
      k.enable();
      k.enable();
      expect(k.isEnabled()).to.equal(true);
      k.disable();
      k.disable();
      expect(k.isEnabled()).to.equal(false);
    });
  });
});
