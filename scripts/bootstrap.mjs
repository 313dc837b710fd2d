#!/usr/bin/env node
// What every documented script (`npm test`, `npm run demo`, `build`, `pack:public`, `release`, `bench`, `mutate`,
// `changeset`) does first, so each works on a fresh clone with only Node.js and npm: install the workspace's
// dependencies (the pinned pnpm through npx, frozen lockfile) when node_modules is missing or was installed from
// another pnpm-lock.yaml (a digest of the lockfile of the last install is kept in node_modules/.tuist-bootstrap). `node scripts/bootstrap.mjs` runs it alone (package.json scripts chain it with `&&`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const stamp = path.join(root, 'node_modules', '.tuist-bootstrap');
const lockDigest = () =>
  createHash('sha256')
    .update(readFileSync(path.join(root, 'pnpm-lock.yaml')))
    .digest('hex');

/** Why the dependencies must be installed, or undefined when node_modules was installed from this lockfile. */
export function installNeeded() {
  if (!existsSync(path.join(root, 'node_modules', '.modules.yaml'))) return 'no node_modules yet';
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== lockDigest())
    return 'pnpm-lock.yaml differs from the last install';
  return undefined;
}

/** Installs the workspace's dependencies when needed (`always`: every time, as `npm test` does). Exits on failure. */
export function bootstrap({ always = false } = {}) {
  const why = always ? 'frozen lockfile' : installNeeded();
  if (!why) return;
  console.log(`==> Installing dependencies (pnpm through npx, ${why})`);
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'pnpm.mjs'), 'install', '--frozen-lockfile'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`installing the dependencies failed (exit ${r.status ?? r.signal}): see pnpm's message above`);
    process.exit(r.status || 1);
  }
  writeFileSync(stamp, `${lockDigest()}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) bootstrap();
