#!/usr/bin/env node
// `npm run demo [-- options]`: the Tuist-like demo server (examples/tuist-server), run from source through tsx so
// no build is needed. Options: `npm run demo -- --help`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bootstrap } from './bootstrap.mjs';
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

// Ctrl+C, SIGTERM, a closed terminal (SIGHUP) or the parent going away all stop the demo the same way: it stops its
// services and exits, and this process exits with it. If it has not stopped in 25 s (its own limit is 15 s), its
// whole process group is killed.
let stopping = false;
function stop(signal) {
  if (!stopping) {
    stopping = true;
    setTimeout(killGroup, 25_000).unref();
  }
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
child.on('exit', (code, signal) => {
  killGroup();
  process.exit(code ?? (signal ? 1 : 0));
});

// A supervisor may signal only npm's process: npm then exits without passing the signal on, and its `sh -c` with
// it, leaving this process behind. So watch the processes that started the demo: our parent, and npm itself when
// npm started us through a shell. Once one is gone, stop.
const watched = parentChain();
const watchdog = setInterval(() => {
  if (watched.some((w) => !w.alive())) {
    clearInterval(watchdog);
    stop('SIGTERM');
  }
}, 500);
watchdog.unref();

/** `/proc/<pid>/stat` as { ppid, state, start } (Linux), or undefined when the process is gone or there is no /proc. */
function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), start: f[19] };
  } catch {
    return undefined;
  }
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Liveness checks for our parent and, under `npm run`, for the npm process above its shell. */
function parentChain() {
  const parent = process.ppid;
  const checks = [{ alive: () => process.ppid === parent }];
  const p = stat(parent);
  if (!p || !process.env.npm_lifecycle_event || !/^(sh|dash|bash)$/.test(comm(parent))) return checks;
  const npm = p.ppid;
  const n = stat(npm);
  if (!n) return checks;
  // The shell still belongs to npm, and npm is the same process (pid and start time), not a zombie.
  checks.push({ alive: () => stat(parent)?.ppid === npm });
  checks.push({
    alive: () => {
      const now = stat(npm);
      return !!now && now.start === n.start && now.state !== 'Z';
    },
  });
  return checks;
}
