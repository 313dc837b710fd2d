import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The workspace's folders (from pnpm-workspace.yaml, `dir` and `dir/*` entries) that hold a package.json. */
function workspaceFolders(): string[] {
  const yaml = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const list = yaml.slice(yaml.indexOf('packages:')).split('\n').slice(1);
  const globs: string[] = [];
  for (const line of list) {
    const m = /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line);
    if (!m) break;
    globs.push(m[1]!);
  }
  return globs
    .flatMap((g) => (g.endsWith('/*') ? readdirSync(path.join(root, g.slice(0, -2))).map((d) => `${g.slice(0, -2)}/${d}`) : [g]))
    .filter((d) => existsSync(path.join(root, d, 'package.json')))
    .sort();
}

/** The public packages (packed and published): the five under packages/. */
export const PUBLIC_PACKAGES = ['core', 'storage', 'http', 'db', 'analytics'].map((p) => `packages/${p}`);
/** Everything else in the workspace, and the root: private, never packed. */
export const PRIVATE_PACKAGES = ['.', ...workspaceFolders().filter((d) => !PUBLIC_PACKAGES.includes(d))];
