import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { startApp, type ChildApp, coreDir } from '../helpers/index.js';

/** Apps started by the test running now; a hung one is killed when the test ends (failed by its timeout). */
const started: ChildApp[] = [];

// The real @opentelemetry/instrumentation core depends on (so it shares import-in-the-middle with the hook).
const instrumentationPath = createRequire(path.join(coreDir, 'package.json')).resolve('@opentelemetry/instrumentation');

/**
 * A throwaway app folder laid out as npm would: @tuist-telemetry/core (linked to this package's build), a stand-in
 * @tuist-telemetry/db whose TuistPgInstrumentation (a real InstrumentationBase) marks `Pool.prototype`, and a
 * stand-in `pg` that is an ES module only, so only the ESM loader hook can patch it (`app.mjs`); with `cjs`, a
 * CommonJS `pg` and a CommonJS app (`app.cjs`), patched through `require`.
 */
function app(opts: { withPg: boolean; cjs?: boolean }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-register-'));
  const nm = path.join(dir, 'node_modules');
  mkdirSync(path.join(nm, '@tuist-telemetry', 'db'), { recursive: true });
  symlinkSync(coreDir, path.join(nm, '@tuist-telemetry', 'core'));
  writeFileSync(
    path.join(nm, '@tuist-telemetry', 'db', 'package.json'),
    JSON.stringify({ name: '@tuist-telemetry/db', type: 'module', exports: './index.js' }),
  );
  writeFileSync(
    path.join(nm, '@tuist-telemetry', 'db', 'index.js'),
    `import { createRequire } from 'node:module';
const { InstrumentationBase, InstrumentationNodeModuleDefinition } = createRequire(import.meta.url)(${JSON.stringify(instrumentationPath)});
export class TuistPgInstrumentation extends InstrumentationBase {
  constructor() { super('stand-in-pg', '0.0.1', {}); }
  init() {
    return [new InstrumentationNodeModuleDefinition('pg', ['>=8 <9'], (m) => { m.Pool.prototype.patchedByTuist = true; return m; }, (m) => m)];
  }
}
`,
  );
  if (opts.cjs) {
    mkdirSync(path.join(nm, 'pg'));
    writeFileSync(
      path.join(nm, 'pg', 'package.json'),
      JSON.stringify({ name: 'pg', version: '8.99.0', main: './index.js' }),
    );
    writeFileSync(path.join(nm, 'pg', 'index.js'), 'exports.Pool = class Pool {};\n');
    writeFileSync(
      path.join(dir, 'app.cjs'),
      "const { Pool } = require('pg');\nconsole.log('READY ' + (Pool.prototype.patchedByTuist === true));\n",
    );
  } else if (opts.withPg) {
    mkdirSync(path.join(nm, 'pg'));
    writeFileSync(
      path.join(nm, 'pg', 'package.json'),
      JSON.stringify({ name: 'pg', version: '8.99.0', type: 'module', exports: './index.js' }),
    );
    writeFileSync(path.join(nm, 'pg', 'index.js'), 'export class Pool {}\n');
    writeFileSync(
      path.join(dir, 'app.mjs'),
      "import { Pool } from 'pg';\nconsole.log('READY ' + (Pool.prototype.patchedByTuist === true));\n",
    );
  } else {
    writeFileSync(path.join(dir, 'app.mjs'), "console.log('READY no pg');\n");
  }
  return dir;
}

async function run(
  dir: string,
  env: Record<string, string> = {},
  preload = '--import',
  entry = 'app.mjs',
  before: string[] = [],
): Promise<{ ready: string; output: string }> {
  const p = startApp([...before, preload, '@tuist-telemetry/core/register', entry], {
    cwd: dir,
    env: { NODE_OPTIONS: '', OTEL_METRICS_EXPORTER: 'none', ...env },
  });
  started.push(p);
  const ready = await p.ready;
  await p.exit;
  return { ready, output: p.output() };
}

describe('core: register enables the Tuist instrumentations installed in the app (ESM loader hook included)', () => {
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.stop()));
  });
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('an ES module app importing an ES-module-only library gets it patched', async () => {
    const dir = app({ withPg: true });
    dirs.push(dir);
    const { ready, output } = await run(dir);
    expect(ready, output).to.equal('true');
    expect(output.replace(/READY.*\n/, ''), 'nothing else printed').to.equal('');
  });

  // NODE_OPTIONS=--require … is how many images and PaaS set preloads: register must load that way too (no top-level
  // await on its graph), and the loader hook it registers from there must still patch an ES module app.
  it('--require: an ES module app gets its ES-module-only library patched too', async () => {
    const dir = app({ withPg: true });
    dirs.push(dir);
    const { ready, output } = await run(dir, {}, '--require');
    expect(ready, output).to.equal('true');
    expect(output.replace(/READY.*\n/, ''), 'nothing else printed').to.equal('');
  });

  // Node runs `--require` preloads in its loader thread too (started here by another loader, as OpenTelemetry's docs
  // have ESM apps do): register must stay out of that thread, or the app hangs.
  it('--require next to another loader (--experimental-loader): the app starts and its library is patched', async () => {
    const dir = app({ withPg: true });
    dirs.push(dir);
    writeFileSync(path.join(dir, 'hooks.mjs'), 'export async function resolve(s, c, next) { return next(s, c); }\n');
    const { ready, output } = await run(dir, {}, '--require', 'app.mjs', [
      '--no-warnings',
      '--experimental-loader',
      './hooks.mjs',
    ]);
    expect(ready, output).to.equal('true');
    expect(output.replace(/READY.*\n/, ''), 'nothing else printed').to.equal('');
  });

  for (const preload of ['--import', '--require']) {
    it(`${preload}: a CommonJS app requiring a CommonJS library gets it patched`, async () => {
      const dir = app({ withPg: true, cjs: true });
      dirs.push(dir);
      const { ready, output } = await run(dir, {}, preload, 'app.cjs');
      expect(ready, output).to.equal('true');
      expect(output.replace(/READY.*\n/, ''), 'nothing else printed').to.equal('');
    });
  }

  it('where Node cannot require an ES module, --require prints one line saying to use --import and the app runs', async () => {
    const dir = app({ withPg: true, cjs: true });
    dirs.push(dir);
    const { ready, output } = await run(
      dir,
      { NODE_OPTIONS: '--no-experimental-require-module' },
      '--require',
      'app.cjs',
    );
    expect(ready, output).to.equal('false');
    const lines = output
      .replace(/READY.*\n/, '')
      .split('\n')
      .filter(Boolean);
    expect(lines, output).to.have.length(1);
    expect(lines[0]).to.match(
      /^error: @tuist-telemetry\/core\/register: .*use --import|node --import @tuist-telemetry\/core\/register instead/,
    );
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS=pg leaves it alone; an unknown name is warned about once, listing the valid ones', async () => {
    const dir = app({ withPg: true });
    dirs.push(dir);
    expect((await run(dir, { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' })).ready).to.equal('false');
    const { ready, output } = await run(dir, { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,express,koa' });
    expect(ready).to.equal('true');
    expect(output.match(/unknown instrumentation/g)).to.have.length(1);
    expect(output).to.contain('"express", "koa"').and.contain('pg, undici, aws-sdk, http');
  });

  it('an instrumentation whose library is not installed is skipped quietly', async () => {
    const dir = app({ withPg: false });
    dirs.push(dir);
    const { ready, output } = await run(dir);
    expect(ready).to.equal('no pg');
    expect(output.replace(/READY.*\n/, '')).to.equal('');
  });
});
