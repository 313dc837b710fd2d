/**
 * Service folders that a killed harness left behind. A harness deletes its service's temporary folder (PostgreSQL's
 * cluster, s3rver's objects, Prometheus' TSDB) when the test process ends normally or on SIGINT/SIGTERM/SIGHUP
 * (cleanup.ts), but not on SIGKILL (a CI timeout, the OOM killer): each such run left its folder (about 40 MB for a
 * cluster) and, for PostgreSQL and Prometheus, a server still running with no one to stop it. The next harness of
 * the same kind sweeps them: a folder whose owner (the test process that made it, named in `owner.pid`) is gone is
 * removed, after the processes whose command line names it are stopped. A folder whose owner is alive is never
 * touched, whatever its server does (a suite may stop and restart it). A folder from before owners were recorded is
 * removed only once no process names it and it has not changed for an hour. Linux reads command lines from /proc;
 * elsewhere no process is stopped.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { allProcesses } from './processes.js';

const OWNER_FILE = 'owner.pid';
const LEGACY_AGE_MS = 60 * 60_000;

/**
 * A new folder `prefix*` in `parent`, owned by this process, after the folders of killed runs with that prefix were
 * swept (their servers stopped with `signal`): what every service harness calls for its temporary folder.
 */
export async function ownedTempFolder(parent: string, prefix: string, signal?: NodeJS.Signals): Promise<string> {
  sweepStaleFolders(parent, prefix, signal);
  const folder = await mkdtemp(join(parent, prefix));
  writeFileSync(join(folder, OWNER_FILE), `${process.pid}\n`);
  return folder;
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

function ownerOf(folder: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(folder, OWNER_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The processes whose command line names `folder` (a server started on it). */
function processesOn(folder: string): number[] {
  return allProcesses()
    .filter((p) => p.cmd.includes(folder))
    .map((p) => p.pid);
}

/**
 * Removes the folders named `prefix*` in `dir` whose owner is gone (see the module comment), stopping the processes
 * on them with `signal` first (PostgreSQL: SIGQUIT, its immediate shutdown, which still frees its shared memory).
 * Returns the folders removed.
 */
export function sweepStaleFolders(dir: string, prefix: string, signal: NodeJS.Signals = 'SIGKILL'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const folder = join(dir, name);
    try {
      const owner = ownerOf(folder);
      if (owner !== undefined && alive(owner)) continue;
      const servers = processesOn(folder);
      if (owner === undefined && (servers.length > 0 || Date.now() - statSync(folder).mtimeMs < LEGACY_AGE_MS)) {
        continue;
      }
      for (const pid of servers) process.kill(pid, signal);
      rmSync(folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      removed.push(folder);
    } catch {
      // Best effort: a folder another harness removes at the same moment, or one we may not touch.
    }
  }
  return removed;
}
