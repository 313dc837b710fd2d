import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { catalog } from '../../packages/core/src/internal.js';
import { families } from '../metric-reference.js';
import { currentTables, PACKAGE_FAMILIES, readmeOf, renderTables } from '../package-metric-tables.js';

/**
 * The public API is the documented API: each package's index exports exactly the names its README lists under
 * `## API` (runtime names compared with the index's `Object.keys`, type-only names with its `export type` lines),
 * and the README's metric tables are the catalog's (scripts/package-metric-tables.ts --write regenerates them).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'storage', 'http', 'db', 'analytics'];

interface Names {
  values: string[];
  types: string[];
}

/**
 * The names listed under `## API` (up to the next heading): each bullet starts with the names it documents, as code
 * spans separated by commas and followed by a colon: `` - `startTelemetry(options?)`: ... `` is the runtime name
 * `startTelemetry`, `` - `type Telemetry`, `type TelemetryOptions`: ... `` two type-only names.
 */
export function documentedApi(readme: string): Names {
  const lines = readme.split('\n');
  const start = lines.indexOf('## API');
  if (start < 0) throw new Error('the README has no "## API" section');
  const values: string[] = [];
  const types: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith('- ')) continue;
    const m = /^- ((?:`[^`]+`(?:, )?)+):/.exec(line);
    if (!m) throw new Error(`an API bullet must start with the names it documents: ${line}`);
    for (const span of m[1]!.matchAll(/`([^`]+)`/g)) {
      const t = /^type ([A-Za-z_$][\w$]*)$/.exec(span[1]!);
      const v = /^([A-Za-z_$][\w$]*)(\(.*\))?$/.exec(span[1]!);
      if (t) types.push(t[1]!);
      else if (v) values.push(v[1]!);
      else throw new Error(`not an export name: \`${span[1]}\` in ${line}`);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

/** The names `src/index.ts` exports, runtime and type-only, read from its `export { ... } from` lines. */
export function indexExports(source: string): Names {
  if (/^export \*/m.test(source)) throw new Error('index.ts must name its exports (no export *)');
  const values: string[] = [];
  const types: string[] = [];
  for (const m of source.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    for (const raw of m[2]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const isType = m[1] !== undefined || raw.startsWith('type ');
      const name = raw
        .replace(/^type /, '')
        .split(/\s+as\s+/)
        .pop()!;
      (isType ? types : values).push(name);
    }
  }
  const stray = source
    .split('\n')
    .filter((l) => /^export /.test(l) && !/^export (type )?\{/.test(l))
    .filter((l) => l.trim() !== '');
  if (stray.length) throw new Error(`index.ts exports other than "export { ... } from": ${stray.join('; ')}`);
  return { values: values.sort(), types: types.sort() };
}

describe('package READMEs: the API section is the public API, the metric tables are the catalog', () => {
  for (const pkg of PACKAGES) {
    const dir = path.join(root, 'packages', pkg);
    const readme = (): string => readFileSync(path.join(dir, 'README.md'), 'utf8');

    it(`${pkg}: every runtime export of the index is documented under ## API, and every documented name is exported`, async () => {
      const mod = (await import(pathToFileURL(path.join(dir, 'src/index.ts')).href)) as Record<string, unknown>;
      const exported = Object.keys(mod).sort();
      const documented = documentedApi(readme()).values;
      expect(
        exported.filter((n) => !documented.includes(n)),
        `exported by packages/${pkg}/src/index.ts but not documented`,
      ).to.deep.equal([]);
      expect(
        documented.filter((n) => !exported.includes(n)),
        `documented in packages/${pkg}/README.md but not exported`,
      ).to.deep.equal([]);
      // The index's own export lines say the same (so the type-only comparison below reads them right).
      expect(indexExports(readFileSync(path.join(dir, 'src/index.ts'), 'utf8')).values).to.deep.equal(exported);
    });

    it(`${pkg}: every type-only export of the index is documented under ## API as \`type Name\`, and back`, () => {
      const exported = indexExports(readFileSync(path.join(dir, 'src/index.ts'), 'utf8')).types;
      const documented = documentedApi(readme()).types;
      expect(
        exported.filter((n) => !documented.includes(n)),
        `type exported by packages/${pkg}/src/index.ts but not documented`,
      ).to.deep.equal([]);
      expect(
        documented.filter((n) => !exported.includes(n)),
        `type documented in packages/${pkg}/README.md but not exported`,
      ).to.deep.equal([]);
    });

    it(`${pkg}: the metric tables are the ones generated from the catalog (scripts/package-metric-tables.ts --write)`, () => {
      expect(currentTables(readFileSync(readmeOf(pkg), 'utf8'))).to.equal(renderTables(pkg));
    });
  }

  it('every catalog family is in the tables of exactly one package', () => {
    const listed = Object.values(PACKAGE_FAMILIES).flat();
    expect([...listed].sort()).to.deep.equal(families().sort());
  });

  it('every relative link of a package README resolves to a file, and its #anchor to a heading there', () => {
    const slug = (h: string): string =>
      h
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
    const headings = (file: string): Set<string> => {
      const text = readFileSync(file, 'utf8').replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, '');
      return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    };
    const broken: string[] = [];
    for (const pkg of PACKAGES) {
      const file = readmeOf(pkg);
      for (const m of readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [rel, anchor] = target.split('#') as [string, string | undefined];
        const resolved = rel === '' ? file : path.resolve(path.dirname(file), rel);
        if (!existsSync(resolved)) broken.push(`packages/${pkg}/README.md: ${target}`);
        else if (anchor && resolved.endsWith('.md') && !headings(resolved).has(anchor))
          broken.push(`packages/${pkg}/README.md: ${target} (no such heading)`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('every tuist_* metric name a package README mentions is a catalog name (documented or server profile)', () => {
    const known = new Set(catalog.flatMap((d) => [d.name, ...(d.serverName ? [d.serverName] : [])]));
    for (const pkg of PACKAGES) {
      const names = [...readFileSync(readmeOf(pkg), 'utf8').matchAll(/`(tuist_[a-z0-9_]+)[`{ ]/g)].map((m) => m[1]!);
      const unknown = names.filter((n) => !known.has(n) && !known.has(n.replace(/_(bucket|sum|count|created)$/, '')));
      expect(unknown, `packages/${pkg}/README.md`).to.deep.equal([]);
    }
  });
});
