#!/usr/bin/env node
// `npm run release [-- --dry-run]` (a dry run changes no file and publishes nothing): versions the public packages from the pending changesets (`changeset version`:
// new versions, CHANGELOG.md entries, the changeset files consumed), then publishes every public package whose new
// version is not on the registry yet, to the registry npm is configured with (`npm config get registry`, e.g.
// `npm_config_registry`), with npm's own credentials (`npm login`, or a token in the npmrc npm reads).
// Each package is packed by pnpm first (its `prepack` builds dist/; `workspace:` ranges become versions; the `source`
// export condition is left out through publishConfig), then that tarball is what `npm publish` sends. Only the five
// packages under packages/ are published: the root, bench, examples and scripts/testing are private.
// Commit what `changeset version` changed (and tag it) yourself: this script neither commits nor pushes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap } from './bootstrap.mjs';
import { changeset } from './changeset.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** In dependency order: core first, so a registry never serves a package whose core is missing. */
export const PUBLIC_PACKAGES = ['core', 'storage', 'http', 'db', 'analytics'];
const dryRun = process.argv.includes('--dry-run');

/** Runs a step; a failed step throws (so the temporary folder is still removed), and the release exits 1. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    if (opts.stdio === 'pipe') process.stderr.write(`${r.stdout}${r.stderr}`);
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  }
  return r;
}

bootstrap();
const registry = spawnSync('npm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' }).stdout.trim();
console.log(`==> Releasing to ${registry}${dryRun ? ' (dry run: nothing is published)' : ''}`);

const pending = readdirSync(path.join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
if (!pending.length) {
  console.log('==> No pending changesets: the versions stay as they are');
} else if (dryRun) {
  console.log(
    `==> Dry run: the pending changesets (${pending.join(', ')}) are not applied; the current versions are packed`,
  );
} else {
  console.log(`==> Versions from the pending changesets (changeset version: ${pending.join(', ')})`);
  if ((await changeset(['version'])) !== 0) {
    console.error('release: changeset version failed');
    process.exit(1);
  }
}

// What the registry lacks: a version already there is never published twice (so a failed release can be re-run).
const todo = [];
for (const dir of PUBLIC_PACKAGES) {
  const manifest = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
  const spec = `${manifest.name}@${manifest.version}`;
  if (manifest.private) throw new Error(`packages/${dir} is private: it cannot be released`);
  const seen = spawnSync('npm', ['view', spec, 'version'], { cwd: root, encoding: 'utf8' });
  if (seen.status === 0 && seen.stdout.trim() === manifest.version)
    console.log(`==> ${spec} is on ${registry} already: skipped`);
  else
    todo.push({ dir, spec, tarball: `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz` });
}
if (!todo.length) {
  console.log('==> Nothing to publish: every version is on the registry');
  process.exit(0);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'tuist-telemetry-release-'));
try {
  console.log(`==> Packing ${todo.map((t) => t.spec).join(', ')} (each builds on prepack)`);
  const filters = todo.flatMap((t) => ['--filter', `./packages/${t.dir}`]);
  // pnpm lists every file it packs: shown only when packing fails.
  run(process.execPath, [path.join(root, 'scripts/pnpm.mjs'), '-r', ...filters, 'pack', '--pack-destination', work], {
    stdio: 'pipe',
    encoding: 'utf8',
  });
  for (const t of todo) {
    console.log(`==> Publishing ${t.spec}`);
    run('npm', ['publish', path.join(work, t.tarball), '--access', 'public', ...(dryRun ? ['--dry-run'] : [])]);
  }
} catch (err) {
  console.error(`release: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (process.exitCode) process.exit();
console.log(`==> ${dryRun ? 'Would have published' : 'Published'}: ${todo.map((t) => t.spec).join(', ')}`);
