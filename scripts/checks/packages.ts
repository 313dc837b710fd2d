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
    .flatMap((g) =>
      g.endsWith('/*') ? readdirSync(path.join(root, g.slice(0, -2))).map((d) => `${g.slice(0, -2)}/${d}`) : [g],
    )
    .filter((d) => existsSync(path.join(root, d, 'package.json')))
    .sort();
}

/** The public packages (packed and published): the five under packages/. */
export const PUBLIC_PACKAGES = ['core', 'storage', 'http', 'db', 'analytics'].map((p) => `packages/${p}`);
/** Everything else in the workspace, and the root: private, never packed. */
export const PRIVATE_PACKAGES = ['.', ...workspaceFolders().filter((d) => !PUBLIC_PACKAGES.includes(d))];

/**
 * The exact versions this workspace tests with (`name` -> `1.2.3`), so an app outside it installs the same
 * third-party packages. The root, the public packages and the demo come first; other folders only add names they
 * alone use (examples/otel3-app pins the OpenTelemetry 3.x line, which must not replace the 2.x versions).
 */
export function workspaceVersions(): Map<string, string> {
  const versions = new Map<string, string>();
  const first = ['.', ...PUBLIC_PACKAGES, 'examples/tuist-server'];
  const manifests = [...first, ...workspaceFolders().filter((d) => !first.includes(d))];
  for (const m of manifests) {
    const pkg = JSON.parse(readFileSync(path.join(root, m, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const deps of [pkg.dependencies, pkg.devDependencies]) {
      for (const [name, v] of Object.entries(deps ?? {}))
        if (/^\d/.test(v) && !versions.has(name)) versions.set(name, v);
    }
  }
  return versions;
}
