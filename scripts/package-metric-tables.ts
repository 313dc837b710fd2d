// Renders each package README's metric table from core's catalog, with the same rendering as the root README's
// reference (scripts/metric-reference.ts), and checks or rewrites the section between the markers.
// `node --import tsx --conditions=source scripts/package-metric-tables.ts --write`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUCKETS_LINE, familySection } from './metric-reference.js';

const START =
  '<!-- package-metrics:start (generated from packages/core/src/catalog by scripts/package-metric-tables.ts) -->';
const END = '<!-- package-metrics:end -->';

/** Which package records which catalog families; every family belongs to exactly one package. */
export const PACKAGE_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  core: [
    'runs',
    'cache',
    'previews',
    'authentication',
    'projects',
    'accounts',
    'jobs',
    'application',
    'runtime',
    'telemetry',
  ],
  storage: ['storage'],
  http: ['http', 'http_server'],
  db: ['database'],
  analytics: ['analytics'],
};

export function readmeOf(pkg: string): string {
  return fileURLToPath(new URL(`../packages/${pkg}/README.md`, import.meta.url));
}

export function renderTables(pkg: string): string {
  const fams = PACKAGE_FAMILIES[pkg];
  if (!fams) throw new Error(`no metric families listed for package ${pkg}`);
  return `${START}\n${BUCKETS_LINE}\n\n${fams.map(familySection).join('\n')}${END}`;
}

export function currentTables(readme: string): string | undefined {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  return a < 0 || b < 0 ? undefined : readme.slice(a, b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let stale = 0;
  for (const pkg of Object.keys(PACKAGE_FAMILIES)) {
    const path = readmeOf(pkg);
    const readme = readFileSync(path, 'utf8');
    const cur = currentTables(readme);
    if (!cur) throw new Error(`packages/${pkg}/README.md has no package-metrics markers`);
    if (cur === renderTables(pkg)) continue;
    if (process.argv.includes('--write')) {
      writeFileSync(path, readme.replace(cur, renderTables(pkg)));
      console.log(`packages/${pkg}/README.md metric tables updated`);
    } else {
      console.error(`packages/${pkg}/README.md metric tables are out of date: run with --write`);
      stale++;
    }
  }
  if (stale) process.exit(1);
}
