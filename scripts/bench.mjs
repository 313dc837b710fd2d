#!/usr/bin/env node
// `npm run bench`: the benchmark suite (bench/src/main.ts, run from source through tsx). Arguments are passed on:
// `npm run bench -- --smoke` is the quick run the test suite uses; see bench/README.md for the others.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', 'bench/src/main.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
