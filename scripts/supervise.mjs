// How the long-running npm scripts (`npm run demo`, `npm run bench`) learn that they should stop: a signal to their
// own pid (Ctrl+C, `docker stop`, `kill <pid>`, a closed terminal), or the process that started them going away.
// The second matters because a supervisor may signal only npm's process (systemd with KillMode=process, a CI step
// timeout, `kill <npm pid>`): npm then exits without passing the signal on, and its `sh -c` with it, leaving the
// script behind. Linux reads /proc; elsewhere only the direct parent is watched.
import { readFileSync } from 'node:fs';

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

/**
 * Calls `stop(signal)` on SIGINT, SIGTERM and SIGHUP (each time one arrives), and `stop('SIGTERM')` once when a
 * process that started this one is gone (checked every 500 ms by an unref'd timer). Registering the handlers also
 * keeps Node's default, an immediate exit that would leave this script's children running, from happening.
 */
export function onStopRequest(stop) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
  const watched = parentChain();
  const watchdog = setInterval(() => {
    if (watched.some((w) => !w.alive())) {
      clearInterval(watchdog);
      stop('SIGTERM');
    }
  }, 500);
  watchdog.unref();
}
