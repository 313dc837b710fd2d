#!/usr/bin/env node
// `npm run changeset [-- <command>]`: the changesets CLI (`changeset add` by default, `version`, `status`, ...).
// @changesets/cli 3 needs Node `^22.11 || ^24 || >=26` (it calls module.enableCompileCache at start); on an older
// Node (the project supports 20.20) it runs under Node 24 from the per-user cache of scripts/node-lines.mjs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap } from './bootstrap.mjs';
import { envFor, nodeBinary } from './node-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Whether this Node runs @changesets/cli 3 (engines `^22.11 || ^24 || >=26`). */
export function runsChangesets(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return (major === 22 && minor >= 11) || major === 24 || major >= 26;
}

/** Runs `changeset <args>` in the workspace root; resolves with its exit status. */
export async function changeset(args) {
  bootstrap();
  const node = runsChangesets() ? process.execPath : await nodeBinary(24);
  const cli = path.join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
  const r = spawnSync(node, [cli, ...args], { cwd: root, stdio: 'inherit', env: envFor(node) });
  return r.status ?? 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exit(await changeset(process.argv.slice(2)));
