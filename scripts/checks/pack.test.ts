import { expect } from 'chai';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRIVATE_PACKAGES } from './packages.js';

/**
 * What a user gets from npm: every public package packed (as `npm run release` publishes them), the tarballs
 * installed together with npm into a fresh app outside the workspace (what the README's install lines name), and
 * loaded from ESM and with `require()` from CommonJS. The README's code blocks run in readme-snippets.test.ts.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
}
const output = (r: SpawnSyncReturns<string>): string =>
  `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`.slice(-4000);

/** The versions this workspace tests with, so the app installs the same third-party packages. */
function workspaceVersions(): Map<string, string> {
  const versions = new Map<string, string>();
  const manifests = [
    'package.json',
    ...readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}/package.json`),
    'examples/tuist-server/package.json',
  ];
  for (const m of manifests) {
    const pkg = JSON.parse(readFileSync(path.join(root, m), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const deps of [pkg.dependencies, pkg.devDependencies])
      for (const [name, v] of Object.entries(deps ?? {})) if (/^\d/.test(v)) versions.set(name, v);
  }
  return versions;
}

/**
 * Every installed copy of each @opentelemetry package under an app's node_modules (nested ones included), as
 * `version path`: npm puts a second copy in a nested node_modules when two dependants pin different versions.
 */
function otelCopies(app: string): Map<string, string[]> {
  const copies = new Map<string, string[]>();
  const walk = (nodeModules: string): void => {
    if (!existsSync(nodeModules)) return;
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@')
        ? readdirSync(path.join(nodeModules, entry)).map((d) => path.join(nodeModules, entry, d))
        : [path.join(nodeModules, entry)];
      for (const dir of dirs) {
        const manifest = path.join(dir, 'package.json');
        if (!existsSync(manifest)) continue;
        const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (name?.startsWith('@opentelemetry/'))
          copies.set(name, [...(copies.get(name) ?? []), `${version} ${path.relative(app, dir)}`]);
        walk(path.join(dir, 'node_modules'));
      }
    }
  };
  walk(path.join(app, 'node_modules'));
  return copies;
}

/** The SDK packages a stock 0.223 package (exporter-prometheus, sdk-node, the OTLP exporters) pins exactly. */
const ONE_COPY = ['@opentelemetry/sdk-metrics', '@opentelemetry/core', '@opentelemetry/resources'];

/** The packages the README's `npm install` lines under "## Packages" name. */
function readmeInstalls(): string[] {
  const start = readme.indexOf('\n## Packages');
  const part = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...part.matchAll(/^npm install (.+)$/gm)]
    .flatMap((m) => m[1]!.replace(/#.*/, '').trim().split(/\s+/))
    .filter((w) => !w.startsWith('-'));
}

/**
 * The environment of a user who configured nothing, with the endpoint on a free local port. Without NODE_PATH: pnpm's
 * bin shims (`npx mocha`) set it to the workspace's packages, where `require()` would find the OTLP exporters.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(OTEL_|TUIST_|DATABASE_URL|S3_|NODE_OPTIONS|NODE_PATH$)/.test(k)) env[k] = v;
  return { ...env, OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', ...extra };
}

async function runNode(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/** Checks that both the ESM and the CommonJS smoke scripts run against the installed packages. */
const SMOKE = `
const loaded = {};
for (const name of ['core', 'storage', 'http', 'db', 'analytics']) loaded[name] = Object.keys(await load('@tuist-telemetry/' + name)).sort();
const core = await load('@tuist-telemetry/core');
const t = core.startTelemetry({ runtimeMetrics: false });
await t.ready();
t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 1234 });
const body = await (await fetch(t.url)).text();
await t.shutdown();
let otlpError;
try {
  core.startTelemetry({ exporters: 'otlp', runtimeMetrics: false });
} catch (err) {
  otlpError = { name: err.name, isConfigError: err instanceof core.TelemetryConfigError, message: err.message };
}
console.log(JSON.stringify({ loaded, served: body.includes('tuist_runs_total{name="build",is_ci="true",status="0"} 1'), otlpError }));
`;

interface Smoke {
  loaded: Record<string, string[]>;
  served: boolean;
  otlpError?: { name: string; isConfigError: boolean; message: string };
}

describe('packed packages installed with npm in a fresh app (README install lines, ESM and CommonJS)', function () {
  let tmp: string;
  let app: string;
  let tarballs: string[];
  const installs = readmeInstalls();

  before(function () {
    this.timeout(300_000);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tuist-telemetry-pack-'));
    const packs = path.join(tmp, 'packs');
    const packed = run(
      process.execPath,
      ['scripts/pnpm.mjs', '-r', '--filter', './packages/*', 'pack', '--pack-destination', packs],
      root,
    );
    expect(packed.status, output(packed)).to.equal(0);
    tarballs = readdirSync(packs).map((f) => path.join(packs, f));

    app = path.join(tmp, 'app');
    mkdirSync(path.join(app, 'src'), { recursive: true });
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'readme-app', private: true, type: 'module' }),
    );
    // What the README tells users to install, at this workspace's versions; our packages from the tarballs.
    const versions = workspaceVersions();
    const ours = new Map(
      tarballs.map((t) => [
        `@tuist-telemetry/${path
          .basename(t)
          .replace(/^tuist-telemetry-/, '')
          .replace(/-\d+\.\d+\.\d+\.tgz$/, '')}`,
        t,
      ]),
    );
    const specs = new Set<string>(tarballs);
    for (const name of [...installs, '@types/node']) {
      if (ours.has(name)) continue;
      expect(versions.get(name), `the workspace has no pinned version of ${name}`).to.be.a('string');
      specs.add(`${name}@${versions.get(name)}`);
    }
    const installed = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], app);
    expect(installed.status, output(installed)).to.equal(0);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the five public packages, each with its built dist and no .tsbuildinfo, tests or sources of other packages', () => {
    expect(tarballs.map((t) => path.basename(t)).sort()).to.deep.equal(
      ['analytics', 'core', 'db', 'http', 'storage'].map((p) => `tuist-telemetry-${p}-0.1.0.tgz`),
    );
    for (const t of tarballs) {
      const files = run('tar', ['tzf', t], tmp).stdout.split('\n').filter(Boolean);
      expect(files, t)
        .to.include('package/dist/index.js')
        .and.include('package/dist/index.d.ts')
        .and.include('package/package.json');
      expect(
        files.filter((f) => /tsbuildinfo|\/test\//.test(f)),
        t,
      ).to.deep.equal([]);
      const manifest = run('tar', ['xzfO', t, 'package/package.json'], tmp).stdout;
      expect(manifest, `${t}: workspace: ranges are replaced by versions`).to.not.contain('workspace:');
      expect(
        JSON.stringify((JSON.parse(manifest) as { exports: unknown }).exports),
        `${t}: no source condition in exports`,
      ).to.not.contain('"source"');
    }
  });

  it('private packages (the root, bench, testing and every example) refuse to be packed', () => {
    for (const dir of PRIVATE_PACKAGES) {
      const r = run('npm', ['pack', '--dry-run', '--loglevel=error'], path.join(root, dir));
      expect(r.status, `${dir}\n${output(r)}`).to.not.equal(0);
      // The root has no version, so npm refuses it before its prepack guard runs.
      expect(r.stderr, dir).to.match(
        dir === '.'
          ? /is private: it is never packed or published|must have name and version/
          : /is private: it is never packed or published/,
      );
    }
  });

  it('the README install lines bring no OTLP transport (gRPC, protobuf) into the app', () => {
    const exporters = ['metrics', 'trace'].flatMap((signal) =>
      ['grpc', 'proto', 'http'].map((t) => `@opentelemetry/exporter-${signal}-otlp-${t}`),
    );
    for (const dep of ['@grpc/grpc-js', 'protobufjs', ...exporters]) {
      expect(existsSync(path.join(app, 'node_modules', dep)), dep).to.equal(false);
    }
  });

  it('one copy each of sdk-metrics, core and resources (exporter-prometheus 0.223 pins them exactly), in the README app and in a NodeSDK app', function () {
    this.timeout(180_000);
    const readmeCopies = otelCopies(app);
    for (const name of ONE_COPY)
      expect(readmeCopies.get(name), `${name} in the README app: ${readmeCopies.get(name)?.join(', ')}`).to.have.length(
        1,
      );
    // A NodeSDK user: sdk-node and an OTLP metrics exporter of the 2.x line next to our packages.
    const nodeSdkApp = path.join(tmp, 'nodesdk-app');
    mkdirSync(nodeSdkApp);
    writeFileSync(
      path.join(nodeSdkApp, 'package.json'),
      JSON.stringify({ name: 'nodesdk-app', private: true, type: 'module' }),
    );
    const versions = workspaceVersions();
    const stock = [
      '@opentelemetry/api',
      '@opentelemetry/sdk-node',
      '@opentelemetry/exporter-metrics-otlp-proto',
      '@opentelemetry/instrumentation-pg',
    ];
    const installed = run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...tarballs,
        ...stock.map((n) => `${n}@${versions.get(n)}`),
      ],
      nodeSdkApp,
    );
    expect(installed.status, output(installed)).to.equal(0);
    const copies = otelCopies(nodeSdkApp);
    for (const name of [...ONE_COPY, '@opentelemetry/sdk-node'])
      expect(copies.get(name), `${name} in the NodeSDK app`).to.have.length(1);
    for (const [name, where] of copies)
      expect(where, `${name} in the NodeSDK app: ${where.join(', ')}`).to.have.length(1);
    // A 0.223.1 trace exporter pins the 2.12.1 SDK: npm refuses it (core's peer range) instead of adding a second copy.
    const patch = run(
      'npm',
      ['install', '--dry-run', '--no-audit', '--no-fund', '@opentelemetry/exporter-trace-otlp-proto@0.223.1'],
      nodeSdkApp,
    );
    expect(patch.status, output(patch)).to.not.equal(0);
    expect(patch.stderr, output(patch))
      .to.contain('ERESOLVE')
      .and.contain('peerOptional @opentelemetry/exporter-trace-otlp-proto@"0.223.0 || ^0.301.0"');
  });

  it("the public types reach no posthog-node types (whose express extension breaks strict users: TS2307 'express')", () => {
    // Meaningful only while express is absent, as in a user's app that does not use Express.
    expect(existsSync(path.join(app, 'node_modules/express')), 'express must not be installed in the app').to.equal(
      false,
    );
    const reached = new Set<string>();
    const specifiers = new Set<string>();
    const visit = (file: string): void => {
      if (reached.has(file) || !existsSync(file)) return;
      reached.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.d.ts')));
        else specifiers.add(spec);
      }
    };
    visit(path.join(app, 'node_modules/@tuist-telemetry/analytics/dist/index.d.ts'));
    expect(reached.size, 'the analytics declaration files were found').to.be.greaterThan(2);
    expect([...specifiers].filter((s) => /posthog|express/.test(s))).to.deep.equal([]);
  });

  it('the zero-code preload of the packed core loads with --require too (NODE_OPTIONS), in a CommonJS and an ES module app', async () => {
    const apps = {
      'preload-app.cjs': "const { getTelemetry } = require('@tuist-telemetry/core');",
      'preload-app.mjs': "import { getTelemetry } from '@tuist-telemetry/core';",
    };
    for (const [file, load] of Object.entries(apps)) {
      const body =
        "const t = getTelemetry();\nPromise.resolve(t?.ready()).then(() => {\n  console.log('READY ' + (t?.url ?? 'none'));\n  return t?.shutdown();\n});\n";
      writeFileSync(path.join(app, file), `${load}\n${body}`);
      const r = await runNode([file], app, cleanEnv({ NODE_OPTIONS: '--require @tuist-telemetry/core/register' }));
      expect(r.code, `${file}\n${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout, file).to.match(/^READY http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
      expect(r.stderr, file).to.equal('');
    }
  });

  for (const kind of ['esm', 'cjs'] as const) {
    it(
      kind === 'esm'
        ? 'import from ESM: every package loads, core serves /metrics, otlp without its exporter names the package'
        : 'require() from CommonJS does the same (as the README says)',
      async () => {
        const file = kind === 'esm' ? 'smoke.mjs' : 'smoke.cjs';
        const load = kind === 'esm' ? 'const load = (n) => import(n);' : 'const load = async (n) => require(n);';
        writeFileSync(
          path.join(app, file),
          kind === 'esm' ? `${load}\n${SMOKE}` : `${load}\n(async () => {\n${SMOKE}\n})();`,
        );
        const r = await runNode([file], app, cleanEnv());
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stderr).to.not.match(/ExperimentalWarning|Error/);
        const smoke = JSON.parse(r.stdout.trim().split('\n').pop()!) as Smoke;
        expect(smoke.loaded.core).to.include('startTelemetry').and.include('getTelemetry');
        expect(smoke.loaded.storage).to.include('createStorage');
        expect(smoke.loaded.http).to.include('createInstrumentedAgent');
        expect(smoke.loaded.db).to.include('instrumentPgPool');
        expect(smoke.loaded.analytics).to.include('createAnalytics');
        expect(smoke.served).to.equal(true);
        expect(smoke.otlpError).to.deep.equal({
          name: 'TelemetryConfigError',
          isConfigError: true,
          message: smoke.otlpError?.message,
        });
        expect(smoke.otlpError!.message).to.contain(
          'OTEL_METRICS_EXPORTER=otlp with protocol http/protobuf needs @opentelemetry/exporter-metrics-otlp-proto: npm install @opentelemetry/exporter-metrics-otlp-proto@',
        );
      },
    );
  }
});
