#!/usr/bin/env node
// `npm run demo [-- options]`: the Tuist-like demo server (examples/tuist-server), run from source through tsx so
// no build is needed. Options: `npm run demo -- --help`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { letPostgresUserReach } from './postgres-access.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A fresh clone has no dependencies yet: install them (pnpm through npx, frozen lockfile) before the first run.
if (!existsSync(path.join(root, 'node_modules/.modules.yaml')) || !existsSync(path.join(root, 'examples/tuist-server/node_modules'))) {
  console.log('Installing dependencies (first run)…');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/pnpm.mjs'), 'install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
letPostgresUserReach(root);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--conditions=source', 'examples/tuist-server/src/main.ts', ...process.argv.slice(2)],
  {
    cwd: root,
    // The IPC channel lets the demo notice when this process is killed, and stop its services.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    // The AWS SDK's notice about future Node versions is noise in a demo (it does not affect what runs here).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);
// Ctrl+C reaches the child through the terminal's process group; SIGTERM is passed on. Either way the child stops
// its services and exits, and this process exits with it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
