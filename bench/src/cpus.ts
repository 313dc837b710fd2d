// CPU placement of the interleaved cases (4 and 5): the measured clients on one CPU, their server (the keep-alive
// HTTP server, PostgreSQL) on another, as if on separate machines. Unpinned, the scheduler sometimes ran a client
// and its server on one core for a whole process's life: the same code measured 0.92x in one process set and 0.97x
// in the next (Node 24, a quiet 2-core machine), a spread larger than the cost the bars look for. Linux only, with
// `taskset` (util-linux) and at least two CPUs; anywhere else every process runs where the scheduler puts it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Role = 'client' | 'server';

const TASKSET = '/usr/bin/taskset';

/**
 * The CPUs this process may run on, from a kernel list such as `0-3,8,10-11` (`Cpus_allowed_list` in
 * /proc/self/status): a container or cgroup may allow CPUs that do not start at 0. Empty when the list cannot be read.
 */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return [];
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

function allowedCpus(): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? parseCpuList(m[1]!) : [];
  } catch {
    return [];
  }
}

/** The CPU of each role, or `undefined` when processes are not pinned (see the module comment). */
export function cpuOf(role: Role): number | undefined {
  if (process.platform !== 'linux' || process.env.TUIST_BENCH_PIN === '0' || !existsSync(TASKSET)) return undefined;
  const cpus = allowedCpus();
  if (cpus.length < 2) return undefined;
  return role === 'client' ? cpus[0] : cpus.at(-1);
}

/** `[command, args]` that run `command args` on the CPU of `role` (taskset execs it: the pid is the command's). */
export function pinned(role: Role, command: string, args: string[]): [string, string[]] {
  const cpu = cpuOf(role);
  return cpu === undefined ? [command, args] : [TASKSET, ['-c', String(cpu), command, ...args]];
}

/** Moves a running process (all its threads; children it forks later inherit it) to the CPU of `role`. */
export function pinPid(role: Role, pid: number): void {
  const cpu = cpuOf(role);
  if (cpu === undefined) return;
  try {
    execFileSync(TASKSET, ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'pipe' });
  } catch (err) {
    // The bench still runs; the numbers of its server's role are then unpinned, and the log says so.
    console.error(`bench: could not pin pid ${pid} to CPU ${cpu} (${String((err as Error).message).trim()})`);
  }
}

/** The postmaster's pid of a PostgreSQL cluster in `directory` (its `data/postmaster.pid` starts with it). */
export function postmasterPid(directory: string): number {
  return Number(readFileSync(path.join(directory, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** How the processes were placed, for the report. */
export function placement(): string {
  const client = cpuOf('client');
  const server = cpuOf('server');
  return client === undefined
    ? 'not pinned (the scheduler places every process)'
    : `clients pinned to CPU ${client}, their servers to CPU ${server} (taskset)`;
}
