#!/usr/bin/env node
// `npm run bench`: the benchmark suite (bench/src/main.ts, run through tsx). It measures the BUILT packages (their
// dist/, as users run them): running them from source through tsx would add its per-closure `__name` helpers and
// inflate the cost of closure-heavy instrumentation. Arguments are passed on: `npm run bench -- --smoke` is the quick
// run the test suite uses; see bench/README.md for the others.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { letPostgresUserReach } from './postgres-access.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const measured = ['packages/core', 'packages/http', 'packages/db'];
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', ...measured], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error(`bench: building ${measured.join(', ')} failed; fix the build first`);
  process.exit(build.status ?? 1);
}
letPostgresUserReach(root);
const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/src/main.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
