// Processes read from /proc (Linux): the tree of a run, which the stop tests of `npm run demo` and `npm run bench`
// check is gone after a signal, and the servers a killed run left on its folders (stale-folders.ts).
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  /** Start time in clock ticks since boot: with the pid, tells a process from a later one that reuses its pid. */
  start: string;
  cmd: string;
}

/** `/proc/<pid>` as a Proc, or undefined when it is gone. */
export function proc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(f[1]), state: f[0]!, start: f[19]!, cmd };
  } catch {
    return undefined;
  }
}

/** Every process on the machine, from /proc (none where there is no /proc). */
export function allProcesses(): Proc[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  return pids.map((d) => proc(Number(d))).filter((p): p is Proc => !!p);
}

/** Every process below `pid`, from /proc. */
export function descendants(pid: number): Proc[] {
  const all = allProcesses();
  const out: Proc[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of all) if (p.ppid === parent) out.push(p), queue.push(p.pid);
  }
  return out;
}

/** Still running: same pid and start time, and not a zombie (a zombie runs nothing; who reaps it is not ours). */
export function running(p: Proc): boolean {
  const now = proc(p.pid);
  return !!now && now.start === p.start && now.state !== 'Z';
}

/** SIGKILLs those of `procs` still running (a test's leftovers, so that they do not weigh on the suites after it). */
export function killRunning(procs: readonly Proc[]): void {
  for (const p of procs) {
    try {
      if (running(p)) process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
