import { expect } from 'chai';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  registerInstrumentations,
  type Instrumentation,
} from '@opentelemetry/instrumentation';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import module, { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import {
  enableWithLoaderHook,
  inInternalThread,
  loaderHookParts,
  syncHooksOf,
  type LoaderHookParts,
} from '../../src/instrumentations/hook.js';
import type { FoundInstrumentation } from '../../src/instrumentations/load.js';
import { enableWithoutLoaderHook } from '../../src/instrumentations/preload.js';
import { hostRuntime, type HostRuntime } from '../../src/runtime/which.js';

// enableWithLoaderHook's decisions, in-process: which loader hook it registers, with which options, in which order,
// what it hands to Bun's and Deno's way. The real loader set-up (the hook wrapping an app's ES modules) runs in the
// zero-code start's child processes (register-instrumentations.test.ts); here the parts it calls are recorded.

const here = createRequire(import.meta.url);
const hookUrl = pathToFileURL(here.resolve('../../src/instrumentations/hook.ts')).href;

/** A real InstrumentationBase hooking `names`, created disabled (registerInstrumentations enables it). */
const hooking = (name: string, names: string[]): Instrumentation =>
  new (class extends InstrumentationBase {
    constructor() {
      super(name, '0.0.0', { enabled: false });
    }
    protected init() {
      return names.map((n) => new InstrumentationNodeModuleDefinition(n, ['*']));
    }
  })();

const foundOf = (create: () => Instrumentation | undefined): FoundInstrumentation =>
  ({ known: { name: 'x' }, create }) as unknown as FoundInstrumentation;

/** Parts that record every call; each throws unless the test lets it run. */
function recording(over: Partial<LoaderHookParts> = {}) {
  const calls: string[] = [];
  const options = { data: { include: ['already'] }, transferList: [] };
  let includeAtRegister: string[] | undefined;
  const parts: LoaderHookParts = {
    runtime: () => (calls.push('runtime'), { name: 'node', version: '24.0.0' }),
    withoutLoaderHook: () => {
      throw new Error('withoutLoaderHook not expected');
    },
    channel: () => (calls.push('channel'), { registerOptions: options }),
    enable: (o) => calls.push(`enable ${o.instrumentations.map((i) => i.instrumentationName).join(',')}`),
    syncHooks: () => (calls.push('syncHooks'), undefined),
    register: (specifier, parentURL, o) => {
      includeAtRegister = [...(o.data?.include ?? [])];
      calls.push(`register ${specifier} ${parentURL === hookUrl ? 'hook.ts' : parentURL}`);
      expect(o).to.equal(options);
    },
    ...over,
  };
  return { parts, calls, options, includeAt: () => includeAtRegister };
}

describe('core: enableWithLoaderHook(), the loader hook the zero-code start registers', () => {
  it('registers nothing and asks nothing when no instrumentation was found', () => {
    const r = recording({
      runtime: () => {
        throw new Error('runtime not expected');
      },
    });
    expect(enableWithLoaderHook([], r.parts)).to.deep.equal([]);
    expect(r.calls).to.deep.equal([]);
  });

  for (const name of ['bun', 'deno'] as const) {
    it(`on ${name}: hands the found instrumentations and the runtime to the way without loader hooks`, () => {
      const runtime: HostRuntime = { name, version: '1.0.0' };
      const found = [foundOf(() => hooking('a', ['pg']))];
      const made = [hooking('made', [])];
      let got: unknown[] = [];
      const r = recording({
        runtime: () => runtime,
        withoutLoaderHook: (f, rt) => ((got = [f, rt]), made),
      });
      expect(enableWithLoaderHook(found, r.parts)).to.equal(made);
      expect(got[0]).to.equal(found);
      expect(got[1]).to.equal(runtime);
      expect(r.calls).to.deep.equal([]);
    });
  }

  it("on Node without fitting synchronous hooks: enables them, then module.register()s import-in-the-middle's loader with the hooked modules", () => {
    const a = hooking('a', ['pg', 'pg-pool']);
    const b = hooking('b', ['already', '@aws-sdk/client-s3']);
    const r = recording();
    // A found instrumentation whose create() fails (undefined) is skipped.
    const out = enableWithLoaderHook([foundOf(() => a), foundOf(() => undefined), foundOf(() => b)], r.parts);
    expect(out).to.deep.equal([a, b]);
    expect(r.calls).to.deep.equal([
      'runtime',
      'channel',
      'enable a,b',
      'syncHooks',
      'register import-in-the-middle/hook.mjs hook.ts',
    ]);
    // The loader gets the modules in its initial data: they must be in `include` when register is called.
    expect(r.includeAt()).to.deep.equal(['already', 'pg', 'pg-pool', '@aws-sdk/client-s3']);
  });

  it('on Node with module.registerHooks but an import-in-the-middle that cannot use them there: module.register()', () => {
    let syncRegistered = false;
    const r = recording({
      syncHooks: () => ({
        supportsSyncHooks: () => false,
        register: () => {
          syncRegistered = true;
        },
      }),
    });
    enableWithLoaderHook([foundOf(() => hooking('a', ['pg']))], r.parts);
    expect(syncRegistered).to.equal(false);
    expect(r.calls.at(-1)).to.equal('register import-in-the-middle/hook.mjs hook.ts');
    expect(r.includeAt()).to.deep.equal(['already', 'pg']);
  });

  it("on Node whose synchronous hooks fit: registers import-in-the-middle's in-thread hooks with the loader's data, not module.register()", () => {
    const given: unknown[] = [];
    const r = recording({
      syncHooks: () => ({
        supportsSyncHooks: () => true,
        register: (o) => void given.push(o, [...(o?.include ?? [])]),
      }),
      register: () => {
        throw new Error('module.register not expected');
      },
    });
    const a = hooking('a', ['pg']);
    expect(enableWithLoaderHook([foundOf(() => a)], r.parts)).to.deep.equal([a]);
    expect(given[0]).to.equal(r.options.data);
    expect(given[1]).to.deep.equal(['already', 'pg']);
    expect(r.calls).to.deep.equal(['runtime', 'channel', 'enable a']);
  });

  it("lets register's error through (register.ts reports it); the instrumentations are enabled by then", () => {
    const boom = new Error('loader refused');
    const r = recording({
      register: () => {
        throw boom;
      },
    });
    expect(() => enableWithLoaderHook([foundOf(() => hooking('a', ['pg']))], r.parts)).to.throw(boom);
    expect(r.calls).to.deep.equal(['runtime', 'channel', 'enable a', 'syncHooks']);
  });

  it("with the real channel and OpenTelemetry's registerInstrumentations: the port handed over, the instrumentation enabled", () => {
    const a = hooking('a', ['tuist-telemetry-loader-hook-test-module']);
    let options: Parameters<LoaderHookParts['register']>[2] | undefined;
    const parts: LoaderHookParts = {
      ...loaderHookParts,
      syncHooks: () => undefined,
      register: (_s, _u, o) => void (options = o),
    };
    try {
      const enabled = () => (a as InstrumentationBase).isEnabled();
      expect(enabled()).to.equal(false);
      enableWithLoaderHook([foundOf(() => a)], parts);
      expect(enabled()).to.equal(true);
      const data = options?.data as { include: string[]; addHookMessagePort: MessagePort };
      expect(data.include).to.deep.equal(['tuist-telemetry-loader-hook-test-module']);
      expect(options?.transferList).to.deep.equal([data.addHookMessagePort]);
      // Nobody reads the port in this process: closed, later hooks' messages go nowhere.
      data.addHookMessagePort.close();
    } finally {
      a.disable();
    }
  });
});

describe('core: the real parts of enableWithLoaderHook', () => {
  it("are Node's, import-in-the-middle's and OpenTelemetry's own functions", () => {
    expect(loaderHookParts.runtime).to.equal(hostRuntime);
    expect(loaderHookParts.withoutLoaderHook).to.equal(enableWithoutLoaderHook);
    expect(loaderHookParts.channel).to.equal(createAddHookMessageChannel);
    expect(loaderHookParts.enable).to.equal(registerInstrumentations);
    expect(loaderHookParts.register).to.equal(module.register);
  });

  it('the default syncHooks() asks the real node:module whether it has registerHooks (set and taken away for a moment)', () => {
    const m = module as { registerHooks?: unknown };
    const own = Object.getOwnPropertyDescriptor(m, 'registerHooks');
    const set = (value: unknown) =>
      Object.defineProperty(m, 'registerHooks', { value, configurable: true, writable: true, enumerable: true });
    try {
      set(() => {});
      expect(loaderHookParts.syncHooks()).to.equal(here('import-in-the-middle/register-hooks.mjs'));
      set(undefined);
      expect(loaderHookParts.syncHooks()).to.equal(undefined);
    } finally {
      if (own) Object.defineProperty(m, 'registerHooks', own);
      else delete m.registerHooks;
    }
    expect(typeof m.registerHooks).to.equal(own ? 'function' : 'undefined');
  });

  it("the loader module.register() is given resolves from hook.ts's URL to import-in-the-middle's hook.mjs", () => {
    const resolved = createRequire(hookUrl).resolve('import-in-the-middle/hook.mjs');
    expect(existsSync(resolved)).to.equal(true);
    expect(resolved).to.match(/import-in-the-middle[\\/]hook\.mjs$/);
  });

  it("syncHooksOf(): loads import-in-the-middle's register-hooks.mjs only where node:module has registerHooks", () => {
    let loads = 0;
    const fake = { register: () => {}, supportsSyncHooks: () => true } as unknown as ReturnType<typeof syncHooksOf>;
    const load = () => (loads++, fake!);
    expect(syncHooksOf({}, load)).to.equal(undefined);
    expect(syncHooksOf({ registerHooks: 'not a function' }, load)).to.equal(undefined);
    expect(loads).to.equal(0);
    expect(syncHooksOf({ registerHooks() {} }, load)).to.equal(fake);
    expect(loads).to.equal(1);
    // The default load: the entry itself (loading it registers nothing).
    const real = syncHooksOf({ registerHooks() {} });
    expect(real).to.equal(here('import-in-the-middle/register-hooks.mjs'));
    expect(real?.supportsSyncHooks).to.be.a('function');
    expect(real?.register).to.be.a('function');
    // On this Node: there where registerHooks exists.
    const has = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
    expect(syncHooksOf(module) !== undefined).to.equal(has);
  });
});

describe("core: inInternalThread(), from worker_threads' answers", () => {
  it("Node >= 22.14's isInternalThread; before it, a worker without a parentPort (the loader's)", () => {
    expect(inInternalThread({ isInternalThread: true, isMainThread: false, parentPort: null })).to.equal(true);
    // isInternalThread is Node's own answer: it holds even were an internal thread given a parentPort.
    expect(inInternalThread({ isInternalThread: true, isMainThread: false, parentPort: {} })).to.equal(true);
    expect(inInternalThread({ isInternalThread: false, isMainThread: true, parentPort: null })).to.equal(false);
    expect(inInternalThread({ isInternalThread: false, isMainThread: false, parentPort: {} })).to.equal(false);
    // Node 20 and early 22 have no isInternalThread.
    expect(inInternalThread({ isMainThread: false, parentPort: null })).to.equal(true);
    expect(inInternalThread({ isMainThread: false, parentPort: {} })).to.equal(false);
    expect(inInternalThread({ isMainThread: true, parentPort: null })).to.equal(false);
    expect(inInternalThread({ isMainThread: false, parentPort: undefined })).to.equal(false);
    expect(inInternalThread()).to.equal(false);
  });
});
