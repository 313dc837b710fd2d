#!/usr/bin/env node
// `npm test`: installs pnpm (through npx) and the dependencies (frozen lockfile), builds every package, provides the
// services the suites need (Prometheus and Chromium from Debian when missing; PostgreSQL and S3 are started by the
// suites themselves), runs every test and ends with `tests: N passed, N failed`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';
import { letPostgresUserReach } from './postgres-access.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (msg) => console.log(`\n==> ${msg}`);
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    console.log('tests: 0 passed, 1 failed');
    process.exit(r.status || 1);
  }
}

step('Installing dependencies (pnpm, frozen lockfile)');
run(process.execPath, ['scripts/pnpm.mjs', 'install', '--frozen-lockfile']);
step('Building packages');
run(process.execPath, ['scripts/pnpm.mjs', '-r', '--filter', './packages/*', 'run', 'build']);
step('Providing services');
const env = { ...process.env, ...(await ensureServices()) };
letPostgresUserReach(root);
step('Running tests');
// Spec globs live here, not in .mocharc.json, so `mocha <file>` runs just that file while developing.
const specs = ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'scripts/checks/*.test.ts'];
const extra = process.argv.slice(2).length ? process.argv.slice(2) : specs;
const r = spawnSync(process.execPath, ['node_modules/mocha/bin/mocha.js', ...extra], { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
