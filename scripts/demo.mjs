#!/usr/bin/env node
// `npm run demo [-- options]`: the Tuist-like demo server (examples/tuist-server), run from source through tsx so
// no build is needed. Options: `npm run demo -- --help`.
import { spawn } from 'node:child_process';
import { bootstrap } from './bootstrap.mjs';
import { onStopRequest } from './supervise.mjs';
import { letPostgresUserReach } from './postgres-access.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A fresh clone has no dependencies yet: install them (pnpm through npx, frozen lockfile) before the first run.
bootstrap();
letPostgresUserReach(root);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--conditions=source', 'examples/tuist-server/src/main.ts', ...process.argv.slice(2)],
  {
    cwd: root,
    // The IPC channel lets the demo notice when this process is killed, and stop its services. The demo reads no
    // input, and runs in a process group of its own (detached) so that whatever it starts (PostgreSQL) can be
    // killed as one group if it does not stop by itself.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
    // The AWS SDK's notice about future Node versions is noise in a demo (it does not affect what runs here).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);

/** Kills what is left of the demo's process group (nothing, after a clean stop). */
function killGroup() {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}

// Ctrl+C, SIGTERM, a closed terminal (SIGHUP) or the parent (or npm above it) going away all stop the demo the same
// way (supervise.mjs): it stops its services and exits, and this process exits with it. If it has not stopped in
// 25 s (its own limit is 15 s), its whole process group is killed.
let stopping = false;
function stop(signal) {
  if (!stopping) {
    stopping = true;
    setTimeout(killGroup, 25_000).unref();
  }
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
onStopRequest(stop);
child.on('exit', (code, signal) => {
  killGroup();
  process.exit(code ?? (signal ? 1 : 0));
});
