import { readdirSync, readFileSync } from 'node:fs';
import type { MetricStore } from '../store/store.js';
import { parseMaxOpenFiles, parseProcStatus } from './readings.js';

const LINUX = process.platform === 'linux';

function readMaxFds(): number | undefined {
  try {
    return parseMaxOpenFiles(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU time, start time, memory and file descriptors of the process, read at collection time. On Linux memory comes
 * from `/proc/self/status` (VmRSS, VmSize, VmData) and descriptors from `/proc/self/fd`, as prom-client reads them;
 * elsewhere only the resident size is known (`process.memoryUsage().rss`) and the Linux-only gauges stay 0.
 */
export function startProcessMetrics(store: MetricStore): () => void {
  const cpuUser = store.counter('process_cpu_user_seconds_total');
  const cpuSystem = store.counter('process_cpu_system_seconds_total');
  const cpuTotal = store.counter('process_cpu_seconds_total');
  const resident = store.gauge('process_resident_memory_bytes');
  const virtual = store.gauge('process_virtual_memory_bytes');
  const heap = store.gauge('process_heap_bytes');
  const openFds = store.gauge('process_open_fds');
  const maxFdsGauge = store.gauge('process_max_fds');

  store.gauge('process_start_time_seconds').set(Math.round(Date.now() / 1000 - process.uptime()));
  const maxFds = LINUX ? readMaxFds() : undefined;
  if (maxFds !== undefined) maxFdsGauge.set(maxFds);

  // Counters only add: each collection adds the CPU time used since the previous one. Starting from zero makes
  // the counters the process's whole CPU time (as process_cpu_seconds_total means for every Prometheus client).
  let last = { user: 0, system: 0 };

  return store.onCollect(() => {
    const now = process.cpuUsage();
    const user = Math.max(0, now.user - last.user) / 1e6;
    const system = Math.max(0, now.system - last.system) / 1e6;
    last = now;
    cpuUser.add(user);
    cpuSystem.add(system);
    cpuTotal.add(user + system);

    let mem = LINUX ? readStatus() : undefined;
    if (mem?.residentBytes === undefined) {
      try {
        mem = { ...mem, residentBytes: process.memoryUsage.rss() };
      } catch {
        // process.memoryUsage can throw on some platforms; keep the previous value.
      }
    }
    if (mem?.residentBytes !== undefined) resident.set(mem.residentBytes);
    if (mem?.virtualBytes !== undefined) virtual.set(mem.virtualBytes);
    if (mem?.heapBytes !== undefined) heap.set(mem.heapBytes);

    if (LINUX) {
      try {
        // Minus the descriptor readdirSync itself had open while listing.
        openFds.set(readdirSync('/proc/self/fd').length - 1);
      } catch {
        // /proc not mounted: keep the previous value.
      }
    }
  });
}

function readStatus(): ReturnType<typeof parseProcStatus> | undefined {
  try {
    // /proc is a view of kernel data, not disk I/O: a synchronous read does not block the loop.
    return parseProcStatus(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined;
  }
}
