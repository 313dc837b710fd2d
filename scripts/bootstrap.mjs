#!/usr/bin/env node
// What every documented script (`npm test`, `npm run demo`, `build`, `pack:public`, `release`, `bench`, `mutate`,
// `changeset`) does first, so each works on a fresh clone with only Node.js and npm: install the workspace's
// dependencies (the pinned pnpm through npx, frozen lockfile) when node_modules is missing or older than the
// lockfile. `node scripts/bootstrap.mjs` runs it alone (package.json scripts chain it with `&&`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Why the dependencies must be installed, or undefined when node_modules matches the lockfile. */
export function installNeeded() {
  // pnpm writes node_modules/.pnpm/lock.yaml (the lockfile it installed) at the end of every install.
  const installed = path.join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(installed) || !existsSync(path.join(root, 'node_modules', '.modules.yaml'))) return 'no node_modules yet';
  if (statSync(path.join(root, 'pnpm-lock.yaml')).mtimeMs > statSync(installed).mtimeMs) return 'pnpm-lock.yaml changed since the last install';
  return undefined;
}

/** Installs the workspace's dependencies when needed (`always`: every time, as `npm test` does). Exits on failure. */
export function bootstrap({ always = false } = {}) {
  const why = always ? 'frozen lockfile' : installNeeded();
  if (!why) return;
  console.log(`==> Installing dependencies (pnpm through npx, ${why})`);
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'pnpm.mjs'), 'install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`installing the dependencies failed (exit ${r.status ?? r.signal}): see pnpm's message above`);
    process.exit(r.status || 1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) bootstrap();
