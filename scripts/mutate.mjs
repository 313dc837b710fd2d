#!/usr/bin/env node
// `npm run mutate`: StrykerJS over the store, the Prometheus serializers, the label policy and the cluster merge
// (stryker.config.json). Prints every surviving mutant and the score; the HTML report lands in .tmp/mutation/.
// On demand only, not in `npm test` or CI: a full run takes tens of minutes on 2 cores.
// Stryker 10 does not run on Node 20 (engines >= 22), so it runs under Node 24 from the npm registry (scripts/node-lines.mjs, cached per user), whatever
// Node started this script. Extra arguments go to `stryker run`, e.g.
//   npm run mutate -- --mutate packages/core/src/store.ts
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envFor, nodeBinary } from './node-lines.mjs';
import { bootstrap } from './bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
bootstrap();
const node = await nodeBinary(24);
const stryker = path.join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const r = spawnSync(node, [stryker, 'run', 'stryker.config.json', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: envFor(node),
});
process.exit(r.status ?? 1);
