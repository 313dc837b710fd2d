#!/usr/bin/env node
// Runs the pinned pnpm (package.json "packageManager") through npx, so a machine with only Node and npm works.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pm = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager;
const args = ['--yes', pm, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, COREPACK_ENABLE_STRICT: '0' } });
process.exit(r.status ?? 1);
