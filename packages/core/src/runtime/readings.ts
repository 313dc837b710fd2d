/** Pure helpers of the runtime metrics (parsing /proc files, grouping), tested on their own. */

export interface ProcStatusMemory {
  /** VmRSS in bytes. */
  residentBytes?: number;
  /** VmSize in bytes. */
  virtualBytes?: number;
  /** VmData in bytes. */
  heapBytes?: number;
}

const STATUS_FIELDS: Readonly<Record<string, keyof ProcStatusMemory>> = {
  VmRSS: 'residentBytes',
  VmSize: 'virtualBytes',
  VmData: 'heapBytes',
};

/** Reads VmRSS, VmSize and VmData (`kB` values) out of `/proc/self/status` text, in bytes. */
export function parseProcStatus(text: string): ProcStatusMemory {
  const out: ProcStatusMemory = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = STATUS_FIELDS[line.slice(0, colon)];
    if (key === undefined) continue;
    const m = /^\s*(\d+)\s*kB\s*$/i.exec(line.slice(colon + 1));
    if (m) out[key] = Number(m[1]) * 1024;
  }
  return out;
}

/** The soft limit of "Max open files" in `/proc/self/limits` text; `undefined` when absent or unlimited. */
export function parseMaxOpenFiles(text: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return soft !== undefined && /^\d+$/.test(soft) && Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Counts objects by constructor name (what prom-client reports as the `type` of active handles and requests). */
export function countByConstructorName(list: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of list) {
    if (item === null || item === undefined) continue;
    const name = (item as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name !== 'string') continue;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

/** Counts equal strings (the `type` of active resources). */
export function countStrings(list: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of list) out.set(s, (out.get(s) ?? 0) + 1);
  return out;
}

/** `new_space` -> `new`, `code_large_object_space` -> `code_large_object` (prom-client's `space` label). */
export function heapSpaceLabel(spaceName: string): string {
  const i = spaceName.indexOf('_space');
  return i < 0 ? spaceName : spaceName.slice(0, i);
}

/** The labels of `nodejs_version_info` for a `process.version` such as `v20.20.2`. */
export function versionLabels(version: string): { version: string; major: string; minor: string; patch: string } {
  const [major = '', minor = '', patch = ''] = version.replace(/^v/, '').split(/[.-]/);
  return { version, major: String(Number(major)), minor: String(Number(minor)), patch: String(Number(patch)) };
}
