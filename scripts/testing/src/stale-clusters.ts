/**
 * Throwaway PostgreSQL clusters that a killed harness left behind. A harness deletes its cluster's folder when the
 * test process ends normally or on SIGINT/SIGTERM/SIGHUP (cleanup.ts), but not on SIGKILL (a CI timeout, the OOM
 * killer): each such run left a folder of about 40 MB in the temporary directory, and its postmaster running with
 * no one to stop it. The next harness sweeps them: a folder whose owner (the test process that made it, named in
 * `owner.pid`) is gone is removed, after its postmaster, if it still runs, is stopped. A folder whose owner is alive
 * is never touched, whatever its postmaster does (a suite may stop and restart its cluster). Folders from before
 * owners were recorded are removed only once their postmaster is gone and they have not changed for an hour.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The prefix of every harness cluster folder in the temporary directory. */
export const CLUSTER_PREFIX = 'tuist-telemetry-pg-';
const OWNER_FILE = 'owner.pid';
const LEGACY_AGE_MS = 60 * 60_000;

/** Records the current process as the owner of `folder`. */
export function claimCluster(folder: string): void {
  writeFileSync(join(folder, OWNER_FILE), `${process.pid}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the postmaster serving `folder`'s data, if one runs (its command line names the data directory). */
function postmasterOf(folder: string): number | undefined {
  const pid = pidIn(join(folder, 'data', 'postmaster.pid'));
  if (pid === undefined || !alive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(join(folder, 'data')) ? pid : undefined;
  } catch {
    // No /proc (not Linux): trust the pid file.
    return pid;
  }
}

/** Removes the clusters of `dir` whose owner is gone (see the module comment); returns the folders removed. */
export function sweepStaleClusters(dir = tmpdir(), now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(CLUSTER_PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const folder = join(dir, name);
    try {
      const owner = pidIn(join(folder, OWNER_FILE));
      if (owner !== undefined && alive(owner)) continue;
      const postmaster = postmasterOf(folder);
      if (owner === undefined && (postmaster !== undefined || now - statSync(folder).mtimeMs < LEGACY_AGE_MS)) continue;
      if (postmaster !== undefined) process.kill(postmaster, 'SIGQUIT');
      rmSync(folder, { recursive: true, force: true });
      removed.push(folder);
    } catch {
      // Best effort: a folder another harness removes at the same moment, or one we may not touch.
    }
  }
  return removed;
}
