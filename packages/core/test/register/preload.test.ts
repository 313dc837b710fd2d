import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { enableWithoutLoaderHook, esmEntry } from '../../src/instrumentations/preload.js';
import type { FoundInstrumentation } from '../../src/instrumentations/load.js';

/**
 * register on Bun and Deno (no loader hook): enableWithoutLoaderHook patches the libraries before the app runs, in
 * their CommonJS build and the ES module build `import` resolves to. Run here in-process with the runtime given as
 * Bun or Deno: the library is a throwaway package in an app folder (the entry script's folder, `process.argv[1]`),
 * the instrumentation a real InstrumentationBase that marks what it is handed.
 */

/** What each patch call was handed: which build, at which version. */
interface Seen {
  from: string;
  version: string | undefined;
}

function instrumentationOf(library: string, seen: Seen[]): InstrumentationBase {
  return new (class extends InstrumentationBase {
    constructor() {
      super('preload-test', '0.0.0', { enabled: false });
    }
    protected init() {
      return [
        new InstrumentationNodeModuleDefinition(library, ['*'], (exports: { from?: string }, version?: string) => {
          // As a patch that adds to what it is handed (which an ES module namespace refuses).
          Object.defineProperty(exports, 'patched', { value: true, configurable: true });
          seen.push({ from: exports.from ?? 'none', version });
          return exports;
        }),
      ];
    }
  })();
}

/** Captures what diag says down to debug level (until `diag.disable()`). */
function debugLines(): string[] {
  const lines: string[] = [];
  const push = (...a: unknown[]): void => void lines.push(a.map(String).join(' '));
  diag.setLogger(
    { error: push, warn: push, info: push, debug: push, verbose: () => {} },
    { logLevel: DiagLogLevel.DEBUG, suppressOverrideMessage: true },
  );
  return lines;
}

function found(instrumentation: InstrumentationBase | undefined): FoundInstrumentation {
  return {
    known: { name: 'pg', package: '@tuist-telemetry/db', exportName: 'TuistPgInstrumentation' },
    create: () => instrumentation,
  };
}

describe('core: register without a loader hook (Bun, Deno) patches the libraries before the app runs', () => {
  let app: string;
  const entry = process.argv[1];
  let n = 0;
  /** A fresh library name per test (require caches a module by file, the patch sees each once). */
  const library = (manifest: Record<string, unknown>, files: Record<string, string>): string => {
    const name = `tuist-preload-lib-${++n}`;
    const dir = path.join(app, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, ...manifest }));
    for (const [file, source] of Object.entries(files)) writeFileSync(path.join(dir, file), source);
    return name;
  };

  before(() => {
    app = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'tuist-preload-')));
    writeFileSync(path.join(app, 'app.js'), '');
    process.argv[1] = path.join(app, 'app.js');
  });
  after(() => {
    process.argv[1] = entry!;
    rmSync(app, { recursive: true, force: true });
  });

  it('patches the CommonJS build, a copy of the ES module namespace and its default export, at the version installed', () => {
    const name = library(
      // As pg's: the manifest exported too (it is how the version is read).
      {
        version: '8.4.2',
        exports: { '.': { import: './index.mjs', require: './index.cjs' }, './package.json': './package.json' },
      },
      {
        'index.cjs': "exports.from = 'cjs';",
        'index.mjs': "export const from = 'esm';\nexport default { from: 'esm default' };",
      },
    );
    const seen: Seen[] = [];
    const i = instrumentationOf(name, seen);
    const created = enableWithoutLoaderHook([found(i), found(undefined)], { name: 'deno', version: '2.0.0' });
    try {
      expect(created).to.deep.equal([i]);
      expect(i.isEnabled(), 'enabled through registerInstrumentations').to.equal(true);
      // The CommonJS build is patched twice, here and by the require hook registerInstrumentations set: once each.
      expect([...new Map(seen.map((s) => [JSON.stringify(s), s])).values()]).to.deep.equal([
        { from: 'cjs', version: '8.4.2' },
        { from: 'esm', version: '8.4.2' },
        { from: 'esm default', version: '8.4.2' },
      ]);
    } finally {
      i.disable();
    }
  });

  it("a library whose exports map leaves out ./package.json (pg-pool 3.14's) is patched at its version all the same", () => {
    const name = library(
      { version: '3.14.0', exports: { '.': { import: './esm/index.mjs', require: './lib/index.cjs' } } },
      {},
    );
    const dir = path.join(app, 'node_modules', name);
    mkdirSync(path.join(dir, 'lib'));
    mkdirSync(path.join(dir, 'esm'));
    // A nested manifest without the name (as dual packages mark a folder's module type) is not the package's.
    writeFileSync(path.join(dir, 'lib', 'package.json'), JSON.stringify({ type: 'commonjs', version: '0.0.1' }));
    writeFileSync(path.join(dir, 'lib', 'index.cjs'), "exports.from = 'cjs';");
    writeFileSync(path.join(dir, 'esm', 'index.mjs'), "export const from = 'esm';");
    const seen: Seen[] = [];
    const i = instrumentationOf(name, seen);
    enableWithoutLoaderHook([found(i)], { name: 'deno', version: '2.0.0' });
    i.disable();
    expect([...new Set(seen.map((x) => `${x.from}@${x.version}`))]).to.deep.equal(['cjs@3.14.0', 'esm@3.14.0']);
  });

  it('Bun takes the `module` field of a package without exports; Deno does not; a version that is not a string is unknown', () => {
    const lines = debugLines();
    const files = { 'index.cjs': "exports.from = 'cjs';", 'index.mjs': "export const from = 'esm';" };
    const name = library({ version: 8, main: './index.cjs', module: './index.mjs' }, files);
    const onBun: Seen[] = [];
    const bun = instrumentationOf(name, onBun);
    enableWithoutLoaderHook([found(bun)], { name: 'bun', version: '1.4.0' });
    bun.disable();
    expect(onBun.map((s) => s.from)).to.include('esm');
    expect(onBun.every((s) => s.version === undefined)).to.equal(true);
    const other = library({ version: '1.0.0', main: './index.cjs', module: './index.mjs' }, files);
    const onDeno: Seen[] = [];
    const deno = instrumentationOf(other, onDeno);
    enableWithoutLoaderHook([found(deno)], { name: 'deno', version: '2.0.0' });
    deno.disable();
    expect(onDeno.map((s) => s.from)).to.not.include('esm');
    expect(onDeno.map((s) => s.from)).to.include('cjs');
    diag.disable();
    expect(
      lines.filter((l) => l.startsWith('@tuist-telemetry/')),
      'nothing failed on the way',
    ).to.deep.equal([]);
  });

  it('a library not installed is skipped; one that cannot be loaded is left as it is, with a debug message', () => {
    const lines = debugLines();
    const broken = library(
      { version: '1.0.0', main: './index.cjs' },
      { 'index.cjs': "throw new Error('broken build');" },
    );
    const seen: Seen[] = [];
    const missing = instrumentationOf('tuist-preload-not-installed', seen);
    const failing = instrumentationOf(broken, seen);
    // A definition without a patch function, and an instrumentation without definitions (not an InstrumentationBase).
    const plainLib = library({ version: '1.0.0', main: './index.cjs' }, { 'index.cjs': '' });
    const noPatch = new (class extends InstrumentationBase {
      constructor() {
        super('preload-test', '0.0.0', { enabled: false });
      }
      protected init() {
        return [new InstrumentationNodeModuleDefinition(plainLib, ['*'])];
      }
    })();
    const none = (): void => {};
    const plain = {
      instrumentationName: 'plain',
      instrumentationVersion: '0.0.0',
      ...{ enable: none, disable: none, setTracerProvider: none, setMeterProvider: none, setLoggerProvider: none },
      ...{ setConfig: none, getConfig: () => ({}) },
    } as unknown as InstrumentationBase;
    try {
      expect(() =>
        enableWithoutLoaderHook([found(missing), found(failing), found(noPatch), found(plain)], {
          name: 'bun',
          version: '1.4.0',
        }),
      ).not.to.throw();
      expect(seen).to.deep.equal([]);
      expect(lines.filter((l) => l.startsWith('@tuist-telemetry/'))).to.deep.equal([
        `@tuist-telemetry/instrumentations ${broken} could not be patched before the app started on bun; left as it is Error: broken build`,
      ]);
    } finally {
      diag.disable();
      missing.disable();
      failing.disable();
      noPatch.disable();
    }
  });

  it("esmEntry: the edges of a manifest's exports (a string, null, not an object, subpaths, conditions that lead nowhere)", () => {
    const bun = { name: 'bun', version: '1.4.0' } as const;
    const deno = { name: 'deno', version: '2.0.0' } as const;
    const module = './m.mjs';
    expect(esmEntry({ exports: './only.cjs', module }, bun), 'one entry for both: no module field').to.equal(undefined);
    expect(esmEntry({ exports: null, module }, bun), 'null: no exports map').to.equal(module);
    expect(esmEntry({ exports: 5, module }, bun), 'not an object: no exports map').to.equal(module);
    expect(esmEntry({ exports: { './package.json': './package.json', import: './x.mjs' } }, deno), 'subpaths').to.equal(
      undefined,
    );
    expect(esmEntry({ exports: { deno: { types: './d.ts' }, import: './x.mjs' } }, deno)).to.equal('./x.mjs');
    expect(esmEntry({ exports: { deno: './d.mjs', bun: './b.mjs' } }, deno)).to.equal('./d.mjs');
    expect(esmEntry({ exports: { import: './x.mjs' } }, deno)).to.equal('./x.mjs');
    expect(esmEntry({ exports: { module: './x.mjs' } }, bun)).to.equal('./x.mjs');
    expect(esmEntry({ module: 5 }, bun), 'a module field that is not a path').to.equal(undefined);
    expect(esmEntry({ exports: { import: null, default: './x.js' } }, deno), 'a null target').to.equal(undefined);
  });
});
