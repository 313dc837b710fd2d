import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blocksOf } from './readme-blocks.js';

/**
 * The way to the packages a newcomer takes, end to end against a real registry: a copy of this repository as a
 * clean clone has it (no node_modules, no dist), `npm run pack:public` there (it installs first), `npm run release`
 * into Verdaccio (the workspace's devDependency, on a free port, proxying every other package to the registry npm
 * is configured with), then in an empty folder the README's startTelemetry() start: its `npm install` line exactly as written,
 * and its first snippet, which must print what the README shows.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC = ['analytics', 'core', 'db', 'http', 'storage'];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
}
const output = (r: SpawnSyncReturns<string>): string =>
  `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`.slice(-4000);

/** What a clean clone holds: the files git tracks (and new ones not ignored), as they are in the work tree. */
function copyRepository(to: string): void {
  const files = run('git', ['ls-files', '-z', '-co', '--exclude-standard'], root);
  expect(files.status, output(files)).to.equal(0);
  for (const f of files.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(root, f))) continue; // deleted in the work tree
    mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    copyFileSync(path.join(root, f), path.join(to, f));
  }
}

/** The user environment without this workspace's npm/pnpm run context (npm_config_*, npm_package_*, OTEL_*). */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|pnpm_|OTEL_|TUIST_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function startRegistry(dir: string, upstream: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/checks/fixtures/registry.mjs')], {
    cwd: root,
    env: { ...userEnv(), REGISTRY_DIR: dir, REGISTRY_UPSTREAM: upstream },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^PORT (\d+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => reject(new Error(`the registry exited (${code}) before listening:\n${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/` };
}

describe('npm run release into a local registry (Verdaccio) from a clean clone; the README startTelemetry() start installs from it', function () {
  this.timeout(240_000);
  let tmp: string;
  let registry: { child: ChildProcess; url: string } | undefined;
  let env: NodeJS.ProcessEnv;
  const clone = (): string => path.join(tmp, 'clone');

  before(async function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tuist-telemetry-release-test-'));
    copyRepository(clone());
    const upstream = run('npm', ['config', 'get', 'registry'], root, userEnv()).stdout.trim();
    registry = await startRegistry(path.join(tmp, 'registry'), upstream);
    // A publisher account: Verdaccio's htpasswd answers the CouchDB user PUT with a token for the npmrc.
    const res = await fetch(`${registry.url}-/user/org.couchdb.user:releaser`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'releaser', password: 'release-test-password' }),
    });
    const { token } = (await res.json()) as { token: string };
    expect(token, 'Verdaccio gave a token').to.be.a('string');
    const npmrc = path.join(tmp, 'npmrc');
    writeFileSync(npmrc, `//${new URL(registry.url).host}/:_authToken=${token}\n`);
    env = userEnv({
      npm_config_registry: registry.url,
      npm_config_userconfig: npmrc,
      npm_config_update_notifier: 'false',
    });
  });

  after(() => {
    registry?.child.kill('SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('npm run pack:public works on the fresh clone: it installs the dependencies first', () => {
    expect(existsSync(path.join(clone(), 'node_modules')), 'the copy starts without node_modules').to.equal(false);
    const r = run('npm', ['run', 'pack:public'], clone(), userEnv());
    expect(r.status, output(r)).to.equal(0);
    expect(readdirSync(path.join(clone(), 'packs')).sort()).to.deep.equal(
      PUBLIC.map((p) => `tuist-telemetry-${p}-0.1.0.tgz`),
    );
  });

  it('npm run release versions from the changesets and publishes the five public packages, built, without .tsbuildinfo', () => {
    const pending = readdirSync(path.join(clone(), '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(pending, 'the repository has a pending changeset (the first release)').to.not.deep.equal([]);
    const r = run('npm', ['run', 'release'], clone(), env);
    expect(r.status, output(r)).to.equal(0);
    const version = (
      JSON.parse(readFileSync(path.join(clone(), 'packages/core/package.json'), 'utf8')) as { version: string }
    ).version;
    expect(version, 'changeset version bumped the fixed group').to.not.equal('0.1.0');
    expect(
      readdirSync(path.join(clone(), '.changeset')).filter((f) => pending.includes(f)),
      'the changesets were consumed',
    ).to.deep.equal([]);
    // Only the five public packages are stored as published (the root, bench, examples and testing are private).
    const stored = path.join(tmp, 'registry', 'storage');
    expect(readdirSync(path.join(stored, '@tuist-telemetry')).sort()).to.deep.equal(PUBLIC);
    expect(existsSync(path.join(stored, 'tuist-telemetry'))).to.equal(false);
    for (const p of PUBLIC) {
      const tarball = path.join(stored, '@tuist-telemetry', p, `${p}-${version}.tgz`);
      expect(existsSync(tarball), tarball).to.equal(true);
      const files = run('tar', ['tzf', tarball], tmp).stdout.split('\n').filter(Boolean);
      expect(files, p).to.include('package/dist/index.js').and.include('package/dist/index.d.ts');
      expect(
        files.filter((f) => /tsbuildinfo|\/test\//.test(f)),
        p,
      ).to.deep.equal([]);
      const manifest = run('tar', ['xzfO', tarball, 'package/package.json'], tmp).stdout;
      expect(manifest, p).to.not.contain('workspace:');
      expect((JSON.parse(manifest) as { version: string }).version).to.equal(version);
    }
    const again = run('npm', ['run', 'release'], clone(), env);
    expect(again.status, output(again)).to.equal(0);
    expect(again.stdout, 'a second release publishes nothing').to.contain('Nothing to publish');
  });

  it("the README's startTelemetry() start: its npm install line from the registry in an empty folder, then its snippet prints what the README shows", () => {
    // The README's way to start from code: its `npm install` line, the snippet and what it prints.
    const quick = blocksOf('README.md').filter((b) => b.heading === '## From your code: `startTelemetry()`');
    const install = quick.find((b) => b.lang === 'sh')!.code.trim();
    expect(install).to.equal('npm install @tuist-telemetry/core @tuist-telemetry/http');
    const snippet = quick.find((b) => b.lang === 'js')!;
    const shown = quick.find((b) => b.lang === 'text' && b.line > snippet.line)!;
    const app = path.join(tmp, 'app');
    mkdirSync(app);
    const [cmd, ...args] = install.split(/\s+/);
    const installed = run(cmd!, [...args, '--no-audit', '--no-fund'], app, env);
    expect(installed.status, output(installed)).to.equal(0);
    writeFileSync(path.join(app, 'app.mjs'), snippet.code);
    // Port 0 (a free one) instead of 9091, so that this test can run next to anything.
    const r = run(process.execPath, ['app.mjs'], app, userEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: '0' }));
    expect(r.status, output(r)).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.equal(shown.code);
  });
});
