import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type Instrumentation,
} from '@opentelemetry/instrumentation';
import { mkdtempSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tuistInstrumentations } from '@tuist-telemetry/core';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { addHookedModules, inInternalThread } from '../../src/instrumentations/hook.js';
import { findInstrumentations } from '../../src/instrumentations/index.js';
import { appDirectories } from '../../src/instrumentations/load.js';
import { selectInstrumentations } from '../../src/instrumentations/select.js';

function captureDiag(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const push = (m: string, ...a: unknown[]) => void messages.push([m, ...a].join(' '));
  const l: DiagLogger = { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} };
  // Replaces whatever logger is set (core's default one, installed by an earlier startTelemetry() in this process).
  diag.setLogger(l, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { messages, restore: () => diag.disable() };
}

/** A throwaway app folder whose node_modules holds a fake @tuist-telemetry/db (and optionally pg). */
function fakeApp(
  withPg: boolean,
  source = "exports.TuistPgInstrumentation = class { constructor() { this.instrumentationName = 'fake-pg'; } };",
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-instr-'));
  const db = path.join(dir, 'node_modules', '@tuist-telemetry', 'db');
  mkdirSync(db, { recursive: true });
  writeFileSync(path.join(db, 'package.json'), JSON.stringify({ name: '@tuist-telemetry/db', main: 'index.cjs' }));
  writeFileSync(path.join(db, 'index.cjs'), source);
  if (withPg) {
    const pg = path.join(dir, 'node_modules', 'pg');
    mkdirSync(pg, { recursive: true });
    writeFileSync(path.join(pg, 'package.json'), JSON.stringify({ name: 'pg', main: 'index.js' }));
    writeFileSync(path.join(pg, 'index.js'), '');
  }
  return dir;
}

describe('core: tuistInstrumentations() finds the installed ones from the app', () => {
  it('loads one whose package and library are installed, skips quietly one whose library is not', () => {
    const withPg = fakeApp(true);
    const withoutPg = fakeApp(false);
    const d = captureDiag();
    try {
      const found = tuistInstrumentations({ appDirectories: [withPg], env: {} }).map((i) => i.instrumentationName);
      expect(found).to.deep.equal(['fake-pg']);
      expect(tuistInstrumentations({ appDirectories: [withoutPg], env: {} })).to.deep.equal([]);
      expect(d.messages, 'skipping is quiet').to.deep.equal([]);
    } finally {
      d.restore();
      rmSync(withPg, { recursive: true, force: true });
      rmSync(withoutPg, { recursive: true, force: true });
    }
  });

  it('honours OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS; an unknown name gets one warning listing the valid ones', () => {
    const app = fakeApp(true);
    const d = captureDiag();
    try {
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' } }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,undici' } }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' pg , express' } }),
      ).to.have.length(1);
      // Named in both: disabled wins, as OpenTelemetry's auto-instrumentations decide.
      expect(
        tuistInstrumentations({
          appDirectories: [app],
          env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,http', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' },
        }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({
          appDirectories: [app],
          env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' },
        }),
      ).to.have.length(1);
      expect(d.messages).to.have.length(1);
      expect(d.messages[0]).to.contain('"express"').and.contain('pg, undici, aws-sdk, http');
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('a selection variable with a control character is ignored with one warning naming it, never thrown', () => {
    const app = fakeApp(true);
    const d = captureDiag();
    try {
      const env = { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg\u001b[0m' };
      expect(tuistInstrumentations({ appDirectories: [app], env })).to.have.length(1);
      expect(d.messages).to.have.length(1);
      expect(d.messages[0]).to.contain('OTEL_NODE_DISABLED_INSTRUMENTATIONS contains a control character');
      expect(d.messages[0]).to.contain('ignored');
      // The other variable still counts: one bad variable does not drop the whole selection.
      const both = { ...env, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' };
      expect(tuistInstrumentations({ appDirectories: [app], env: both })).to.have.length(0);
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('a package without the class (another version), one whose module or constructor throws: skipped with a warning, never thrown', () => {
    const apps = [
      fakeApp(true, 'exports.SomethingElse = 1;'),
      fakeApp(true, "throw new Error('broken install');"),
      fakeApp(true, "exports.TuistPgInstrumentation = class { constructor() { throw new Error('nope'); } };"),
    ];
    const d = captureDiag();
    try {
      for (const app of apps) expect(tuistInstrumentations({ appDirectories: [app], env: {} })).to.deep.equal([]);
      expect(d.messages).to.have.length(3);
      expect(d.messages[0]).to.contain('has no TuistPgInstrumentation');
      expect(d.messages[1]).to.contain('could not be loaded');
      expect(d.messages[2]).to.contain('could not be created');
    } finally {
      d.restore();
      for (const app of apps) rmSync(app, { recursive: true, force: true });
    }
  });
});

/**
 * A throwaway app with every package the tables of known.ts name: each SDK package exports its class (whose
 * instrumentationName says which package and export it came from), and the libraries `pg` and `@aws-sdk/client-s3`
 * are there only `withLibraries`.
 */
function fullApp(withLibraries: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-instr-all-'));
  const put = (name: string, source: string): void => {
    const at = path.join(dir, 'node_modules', ...name.split('/'));
    mkdirSync(at, { recursive: true });
    writeFileSync(path.join(at, 'package.json'), JSON.stringify({ name, main: 'index.cjs' }));
    writeFileSync(path.join(at, 'index.cjs'), source);
  };
  const exporting = (pkg: string, ...names: string[]): string =>
    names
      .map((n) => `exports.${n} = class { constructor() { this.instrumentationName = '${pkg} ${n}'; } };`)
      .join('\n');
  put('@tuist-telemetry/db', exporting('@tuist-telemetry/db', 'TuistPgInstrumentation'));
  put(
    '@tuist-telemetry/http',
    exporting('@tuist-telemetry/http', 'TuistUndiciInstrumentation', 'TuistHttpServerInstrumentation'),
  );
  put('@tuist-telemetry/storage', exporting('@tuist-telemetry/storage', 'TuistS3Instrumentation'));
  put('@opentelemetry/instrumentation-pg', exporting('@opentelemetry/instrumentation-pg', 'PgInstrumentation'));
  put(
    '@opentelemetry/instrumentation-undici',
    exporting('@opentelemetry/instrumentation-undici', 'UndiciInstrumentation'),
  );
  put('@opentelemetry/instrumentation-http', exporting('@opentelemetry/instrumentation-http', 'HttpInstrumentation'));
  if (withLibraries) {
    put('pg', '');
    put('@aws-sdk/client-s3', '');
  }
  return dir;
}

describe('core: the instrumentations register knows, by short name, package, class and library', () => {
  const found = (app: string, env: Record<string, string>, stock: boolean): string[] =>
    findInstrumentations({ appDirectories: [app], env, stock }).map(
      (f) => `${f.known.name}: ${f.create()?.instrumentationName}`,
    );

  it("finds each of its own and (with traces on) OpenTelemetry's, in order, from the package that exports it", () => {
    const app = fullApp(true);
    const d = captureDiag();
    try {
      expect(found(app, {}, false)).to.deep.equal([
        'pg: @tuist-telemetry/db TuistPgInstrumentation',
        'undici: @tuist-telemetry/http TuistUndiciInstrumentation',
        'aws-sdk: @tuist-telemetry/storage TuistS3Instrumentation',
        'http: @tuist-telemetry/http TuistHttpServerInstrumentation',
      ]);
      expect(found(app, {}, true)).to.deep.equal([
        'pg: @tuist-telemetry/db TuistPgInstrumentation',
        'undici: @tuist-telemetry/http TuistUndiciInstrumentation',
        'aws-sdk: @tuist-telemetry/storage TuistS3Instrumentation',
        'http: @tuist-telemetry/http TuistHttpServerInstrumentation',
        'pg: @opentelemetry/instrumentation-pg PgInstrumentation',
        'undici: @opentelemetry/instrumentation-undici UndiciInstrumentation',
        'http: @opentelemetry/instrumentation-http HttpInstrumentation',
      ]);
      // The short names select both tables' entries.
      for (const name of ['pg', 'undici', 'aws-sdk', 'http'])
        expect(
          found(app, { OTEL_NODE_ENABLED_INSTRUMENTATIONS: name }, true).map((s) => s.split(':')[0]),
          name,
        ).to.deep.equal(name === 'aws-sdk' ? [name] : [name, name]);
      expect(d.messages).to.deep.equal([]);
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('skips those whose library (pg, @aws-sdk/client-s3) is missing; fetch and node:http need none', () => {
    const app = fullApp(false);
    const d = captureDiag();
    try {
      expect(found(app, {}, true)).to.deep.equal([
        'undici: @tuist-telemetry/http TuistUndiciInstrumentation',
        'http: @tuist-telemetry/http TuistHttpServerInstrumentation',
        'undici: @opentelemetry/instrumentation-undici UndiciInstrumentation',
        'http: @opentelemetry/instrumentation-http HttpInstrumentation',
      ]);
      expect(d.messages).to.deep.equal([]);
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });
});

describe("core: inInternalThread() (register does nothing in Node's loader thread)", () => {
  it('is false in the main thread and in a worker the app creates', async () => {
    expect(inInternalThread()).to.equal(false);
    // The worker loads the same source through tsx's require hook and answers from its own thread.
    const here = createRequire(import.meta.url);
    const hook = here.resolve('../../src/instrumentations/hook.ts');
    const tsx = here.resolve('tsx/cjs');
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
try {
  require(${JSON.stringify(tsx)});
  parentPort.postMessage(require(${JSON.stringify(hook)}).inInternalThread());
} catch (e) {
  parentPort.postMessage(String(e));
}`,
      { eval: true },
    );
    try {
      const answer = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(answer).to.equal(false);
    } finally {
      await worker.terminate();
    }
  });
});

describe("core: appDirectories(), where the app's packages are looked for", () => {
  const entry = process.argv[1];
  afterEach(() => {
    process.argv[1] = entry!;
  });

  it("the entry script's real folder (through a symlink), then the working directory, each once", () => {
    const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'tuist-appdirs-')));
    try {
      mkdirSync(path.join(dir, 'real'));
      writeFileSync(path.join(dir, 'real', 'app.js'), '');
      symlinkSync(path.join(dir, 'real', 'app.js'), path.join(dir, 'link.js'));
      process.argv[1] = path.join(dir, 'link.js');
      expect(appDirectories()).to.deep.equal([path.join(dir, 'real'), process.cwd()]);
      // An entry that does not exist (a name resolved by a loader): its folder as given.
      process.argv[1] = path.join(dir, 'missing', 'app.js');
      expect(appDirectories()).to.deep.equal([path.join(dir, 'missing'), process.cwd()]);
      process.argv[1] = path.join(process.cwd(), 'app-here.js');
      expect(appDirectories(), 'the entry in the working directory').to.deep.equal([process.cwd()]);
      process.argv[1] = '';
      expect(appDirectories(), 'no entry script (node -e, the REPL)').to.deep.equal([process.cwd()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('core: the selection and its messages', () => {
  const collect = (): { lines: string[]; log: DiagLogger } => {
    const lines: string[] = [];
    const push = (...a: unknown[]): void => void lines.push(a.map(String).join(' '));
    return { lines, log: { error: push, warn: push, info: push, debug: push, verbose: push } };
  };

  it('only known names are selected; the unknown ones are listed in one warning, cut after 200 characters', () => {
    const c = collect();
    expect([...selectInstrumentations({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,express,koa' }, c.log)]).to.deep.equal([
      'pg',
    ]);
    expect(c.lines).to.have.length(1);
    expect(c.lines[0]).to.contain('unknown instrumentation "express", "koa"; the Tuist');
    // With its quotes, exactly the 200 characters echoed whole.
    const exact = 'x'.repeat(198);
    const d = collect();
    selectInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: exact }, d.log);
    expect(d.lines[0]).to.contain(`"${exact}"; the Tuist`);
    const e = collect();
    selectInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'y'.repeat(500) }, e.log);
    expect(e.lines[0]).to.contain(`"${'y'.repeat(199)}…; the Tuist`);
    expect(e.lines[0]).to.not.contain('y'.repeat(200));
  });

  it('a skipped instrumentation is told at debug level: which package or library is missing', () => {
    const withoutPg = fakeApp(false);
    const empty = mkdtempSync(path.join(os.tmpdir(), 'tuist-instr-none-'));
    const lines: string[] = [];
    const push = (...a: unknown[]): void => void lines.push(a.map(String).join(' '));
    diag.setLogger(
      { error: push, warn: push, info: push, debug: push, verbose: () => {} },
      { logLevel: DiagLogLevel.DEBUG, suppressOverrideMessage: true },
    );
    try {
      const env = { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg' };
      expect(findInstrumentations({ appDirectories: [withoutPg], env })).to.deep.equal([]);
      expect(findInstrumentations({ appDirectories: [empty], env })).to.deep.equal([]);
      expect(lines.filter((l) => !l.startsWith('@opentelemetry/api'))).to.deep.equal([
        '@tuist-telemetry/instrumentations pg: pg is not installed; skipped',
        '@tuist-telemetry/instrumentations pg: @tuist-telemetry/db is not installed in the app; skipped',
      ]);
    } finally {
      diag.disable();
      rmSync(withoutPg, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("core: addHookedModules(), the modules import-in-the-middle's loader wraps", () => {
  // A real InstrumentationBase hooking `names` (its constructor calls init() before a subclass's fields exist).
  const hooking = (names: string[]): Instrumentation =>
    new (class extends InstrumentationBase {
      constructor() {
        super('hooking', '0.0.0', { enabled: false });
      }
      protected init() {
        return names.map((n) => new InstrumentationNodeModuleDefinition(n, ['*']));
      }
    })();

  it('each hooked module once, after those already listed; an instrumentation without definitions adds none', () => {
    const include = ['redis'];
    const plain = { instrumentationName: 'plain' } as unknown as Instrumentation;
    addHookedModules(include, [hooking(['pg', 'pg-pool']), plain, hooking(['pg', 'redis', 'mysql2'])]);
    expect(include).to.deep.equal(['redis', 'pg', 'pg-pool', 'mysql2']);
    addHookedModules(include, []);
    expect(include).to.have.length(4);
  });
});
