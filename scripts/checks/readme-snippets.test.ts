import { expect } from 'chai';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPostgres, type Postgres } from '../testing/src/postgres.js';
import { startS3Server, type S3Server } from '../testing/src/s3.js';
import { workspaceVersions } from './packages.js';
import { allBlocks, OTHER_LANGS, RUN_LANGS, where, type Block } from './readme-blocks.js';

/**
 * Every code block of every README and docs/ page runs as pasted: the public packages are packed (as they are published), installed
 * with npm into a fresh app outside the workspace together with the third-party packages the blocks import (at the
 * workspace's versions), the TypeScript blocks are type-checked with `strict` and without `skipLibCheck`, and each
 * block runs on its own and must end by itself, printing nothing on stderr. The environment gives what a user's
 * would: DATABASE_URL (a real PostgreSQL), the S3 endpoint and credentials of a real s3rver with a `tuist` bucket
 * (AWS_ENDPOINT_URL_S3), and port 0 for the metrics endpoint so that the blocks can run next to anything.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const blocks = allBlocks();
const runnable = blocks.filter((b) => RUN_LANGS.includes(b.lang) && b.noRun === undefined);
/** Blocks that cannot run standalone (each says why in its info string); keep this list short. */
const MAX_NO_RUN = 3;

const fileOf = (b: Block): string =>
  `${b.file.replace(/README\.md$/, 'readme').replace(/[^a-z0-9]+/gi, '_')}_${b.line}`;
/** `js` blocks are ES modules, unless they are CommonJS files (`module.exports`, `require()`, no `import`). */
const isCommonJs = (b: Block): boolean =>
  b.lang === 'cjs' || (b.lang === 'js' && /\bmodule\.exports\b|\brequire\(/.test(b.code) && !/^import /m.test(b.code));
const extOf = (b: Block): string => (b.lang === 'ts' ? '.ts' : isCommonJs(b) ? '.cjs' : '.mjs');
/** Where each block's program is, relative to the app. */
const programOf = (b: Block): string => (b.lang === 'ts' ? `dist/${fileOf(b)}.js` : `src/${fileOf(b)}${extOf(b)}`);

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
}
const output = (r: SpawnSyncReturns<string>): string =>
  `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`.slice(-6000);

/** The packages a block imports or requires (bare specifiers, not node: builtins). */
function importsOf(code: string): string[] {
  const specs = [
    ...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

/** A user's environment: nothing of this workspace's test run, plus the local services. */
function userEnv(services: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|OTEL_|TUIST_|DATABASE_URL|S3_|AWS_|NODE_OPTIONS$|NODE_PATH$)/i.test(k)) env[k] = v;
  return {
    ...env,
    OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...services,
  };
}

async function runProgram(
  program: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  command = process.execPath,
  args: string[] = [],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(command, [...args, program], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // A block that is still running after a minute did not end by itself (an open server, a timer, a pool).
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  return { code, signal, stdout, stderr };
}

describe('README and docs/ code blocks are marked: code runs, commands and output say so', () => {
  it('every block has a language, runnable or not (ts, js, cjs; sh, text, yaml, json, promql)', () => {
    const unmarked = blocks
      .filter((b) => ![...RUN_LANGS, ...OTHER_LANGS].includes(b.lang))
      .map((b) => `${where(b)} (\`\`\`${b.lang})`);
    expect(unmarked, 'mark each block with its language').to.deep.equal([]);
  });

  it(`a code block that cannot run standalone says why (\`\`\`js no-run: <reason>), and there are at most ${MAX_NO_RUN}`, () => {
    const noRun = blocks.filter((b) => b.noRun !== undefined);
    for (const b of noRun) expect(b.noRun, `${where(b)}: give the reason after no-run:`).to.match(/\w{3,}/);
    expect(noRun.map(where)).to.have.length.at.most(MAX_NO_RUN);
    expect(runnable.length, 'the READMEs have runnable blocks').to.be.greaterThan(10);
  });

  it('the Bun and Deno checks find what they run: the README snippet, its output, the preload commands', () => {
    const quickStart = blocks.find((b) => b.file === 'README.md' && b.lang === 'js');
    expect(quickStart?.code, 'README.md: the first js block is the startTelemetry() snippet').to.contain(
      'startTelemetry(',
    );
    expect(blocks.some((b) => b.file === 'README.md' && b.lang === 'text' && b.line > quickStart!.line)).to.equal(true);
    const commands = blocks.find((b) => b.file === 'docs/bun-and-deno.md' && b.lang === 'sh');
    expect(commands?.code, 'docs/bun-and-deno.md: the preload commands').to.match(/^bun --preload .*\ndeno run /);
  });
});

describe('README and docs/ code blocks run as pasted against the packed packages (TypeScript: strict, no skipLibCheck)', function () {
  let tmp: string;
  let app: string;
  let tscResult: SpawnSyncReturns<string>;
  let postgres: Postgres | undefined;
  let s3: S3Server | undefined;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(400_000);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tuist-telemetry-readme-'));
    const packs = path.join(tmp, 'packs');
    const services = Promise.all([
      startPostgres({ from: new URL('../../packages/db/test/', import.meta.url).href }),
      startS3Server({ from: new URL('../../packages/storage/test/', import.meta.url).href, buckets: ['tuist'] }),
    ]);
    try {
      const packed = run(
        process.execPath,
        ['scripts/pnpm.mjs', '-r', '--filter', './packages/*', 'pack', '--pack-destination', packs],
        root,
      );
      expect(packed.status, output(packed)).to.equal(0);
      app = path.join(tmp, 'app');
      mkdirSync(path.join(app, 'src'), { recursive: true });
      writeFileSync(
        path.join(app, 'package.json'),
        JSON.stringify({ name: 'readme-app', private: true, type: 'module' }),
      );
      const versions = workspaceVersions();
      const wanted = new Set<string>(['@types/node']);
      for (const b of runnable)
        for (const name of importsOf(b.code)) if (!name.startsWith('@tuist-telemetry/')) wanted.add(name);
      // Packages that ship no types of their own: the README tells TypeScript users to add these.
      for (const [lib, types] of [
        ['pg', '@types/pg'],
        ['express', '@types/express'],
      ])
        if (wanted.has(lib!)) wanted.add(types!);
      const missing = [...wanted].filter((n) => !versions.has(n));
      expect(missing, 'packages the README blocks import that the workspace does not pin').to.deep.equal([]);
      const specs = [
        ...readdirSync(packs).map((f) => path.join(packs, f)),
        ...[...wanted].map((n) => `${n}@${versions.get(n)}`),
      ];
      const installed = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], app);
      expect(installed.status, output(installed)).to.equal(0);
      for (const b of runnable) writeFileSync(path.join(app, 'src', fileOf(b) + extOf(b)), b.code);
      writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            skipLibCheck: false,
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            types: ['node'],
            rootDir: 'src',
            outDir: 'dist',
          },
          include: ['src/**/*.ts'],
        }),
      );
      tscResult = run(process.execPath, [tsc, '-p', '.'], app);
    } finally {
      const [pg, server] = await services;
      postgres = pg;
      s3 = server;
    }
    env = userEnv({
      DATABASE_URL: postgres.url,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.clientSettings.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.clientSettings.credentials.secretAccessKey,
      AWS_REGION: s3.clientSettings.region,
    });
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all([postgres?.stop(), s3?.stop()]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the TypeScript blocks type-check (tsc --strict, no skipLibCheck)', () => {
    // Errors name the block's file: readme_190.ts is README.md's block at line 190, packages_db_readme_93.ts packages/db/README.md's.
    expect(tscResult.status, output(tscResult)).to.equal(0);
  });

  // The README's startTelemetry() snippet on Bun and Deno (docs/bun-and-deno.md): it prints what the README shows.
  const quickStart = runnable.find((b) => b.file === 'README.md' && b.lang === 'js');
  const printed = blocks.find(
    (b) => b.file === 'README.md' && b.lang === 'text' && quickStart !== undefined && b.line > quickStart.line,
  );
  for (const [runtime, args] of [
    ['bun', []],
    ['deno', ['run', '-A']],
  ] as const) {
    it(`README.md startTelemetry() snippet runs as pasted on ${runtime} and prints what the README shows`, async function () {
      this.timeout(120_000);
      const lines = (await import(pathToFileURL(path.join(root, 'scripts', 'node-lines.mjs')).href)) as {
        runtimeBinary(name: string): Promise<string>;
      };
      const r = await runProgram(
        programOf(quickStart!),
        app,
        { ...env, DENO_NO_UPDATE_CHECK: '1' },
        await lines.runtimeBinary(runtime),
        [...args],
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout.trim()).to.equal(printed!.code.trim());
      expect(r.stderr).to.equal('');
    });
  }

  // The zero-code commands for Bun and Deno (docs/bun-and-deno.md), as written, on an app of the packed install.
  const runtimeCommands = blocks.find(
    (b) => b.file === 'docs/bun-and-deno.md' && b.lang === 'sh' && b.heading.includes('Bun and Deno'),
  );
  for (const command of runtimeCommands?.code.trim().split('\n') ?? []) {
    it(`docs/bun-and-deno.md: ${command} starts the telemetry in an app of the packed packages`, async function () {
      this.timeout(120_000);
      const [runtime, ...args] = command.split(' ');
      expect(args.at(-1)).to.equal('app.mjs');
      writeFileSync(
        path.join(app, 'app.mjs'),
        // The endpoint listens on port 0: the telemetry the preload started says where.
        "import { getTelemetry } from '@tuist-telemetry/core';\nconst t = getTelemetry();\nawait t.ready();\nconst r = await fetch(t.url);\n" +
          "console.log((await r.text()).split('\\n').filter((l) => l.startsWith('tuist_runtime_info')).join('\\n'));\nprocess.exit(0);\n",
      );
      // `npm:` needs a version range in package.json, as an install from a registry writes it (here: tarballs).
      const manifest = path.join(app, 'package.json');
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies: Record<string, string> };
      for (const name of Object.keys(pkg.dependencies))
        if (name.startsWith('@tuist-telemetry/'))
          pkg.dependencies[name] = `^${workspaceVersions().get(name) ?? '0.1.0'}`;
      writeFileSync(manifest, JSON.stringify(pkg));
      const lines = (await import(pathToFileURL(path.join(root, 'scripts', 'node-lines.mjs')).href)) as {
        runtimeBinary(name: string): Promise<string>;
      };
      const r = await runProgram(
        args.pop()!,
        app,
        { ...env, DENO_NO_UPDATE_CHECK: '1' },
        await lines.runtimeBinary(runtime!),
        args,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout.trim()).to.equal(
        `tuist_runtime_info{runtime="${runtime}",version="${runtime === 'bun' ? '1.4.5' : '2.9.6'}"} 1`,
      );
      expect(r.stderr).to.equal('');
    });
  }

  for (const b of runnable) {
    it(`${where(b)} (${b.lang}) runs and ends by itself`, async function () {
      this.timeout(90_000);
      const r = await runProgram(programOf(b), app, env);
      expect(
        r.code,
        `${where(b)} as ${programOf(b)}: ${r.signal === 'SIGKILL' ? 'still running after 60 s' : `exit ${r.code}`}\n${r.stdout}\n${r.stderr}`,
      ).to.equal(0);
      expect(r.stderr, where(b)).to.equal('');
    });
  }
});
