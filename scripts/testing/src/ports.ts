/**
 * The TCP ports a child process listens on, for children started on port 0 that do not print where they listen
 * (a zero-code app under `--import …/register` with `OTEL_EXPORTER_PROMETHEUS_PORT=0`): a port found free and
 * passed on could be taken by another process before the child binds it. Linux (/proc): the child's socket
 * descriptors matched against the LISTEN rows of its /proc/<pid>/net/tcp and tcp6.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The ports `pid` listens on now (sorted), or [] when it is gone. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode; st 0A is LISTEN
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * Waits (up to `timeoutMs`) until `pid` listens on a port not in `known`, and returns it: the one port a child
 * opened besides those it reported itself.
 */
export async function newListeningPort(pid: number, known: readonly number[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const extra = listeningPorts(pid).filter((p) => !known.includes(p));
    if (extra.length === 1) return extra[0]!;
    if (extra.length > 1) throw new Error(`process ${pid} listens on more ports than expected: ${extra.join(', ')}`);
    if (Date.now() > deadline)
      throw new Error(`process ${pid} listens on no port besides ${known.join(', ') || 'none'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
