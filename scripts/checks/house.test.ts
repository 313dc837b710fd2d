import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The house rules of the developers' guide, checked on the whole tree: the linter and formatter pass, no source
 * file is over 400 lines, no package's sources import each other in a circle, and core reads top-down (no file
 * imports from a folder above its own; its folders import each other one way).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINES = 400;
const SOURCE = /\.(ts|cts|mts|mjs|cjs|js)$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name)) out.push(p);
  }
  return out;
}

/** Relative imports of a source file, resolved to files (`./x.js` is `./x.ts` in the sources). */
export function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = (m[1] ?? m[2])!;
    const base = path.resolve(path.dirname(file), spec);
    const candidates = [base, base.replace(/\.c?js$/, (e) => (e === '.cjs' ? '.cts' : '.ts')), `${base}.ts`];
    const hit = candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (hit) out.push(hit);
  }
  return out;
}

/** One import cycle of a graph (as a list of files), or undefined. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (state.get(m) === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of graph.keys()) {
    if (state.get(n) === undefined) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

/**
 * The imports of `file` that reach up: into a folder that holds the importing file's own folder (`src/x/a.ts`
 * importing `src/b.ts`). Same-folder and sibling-folder imports (`src/x/a.ts` importing `src/y/c.ts`) are fine.
 */
export function upwardImports(file: string, imports: readonly string[]): string[] {
  const dir = path.dirname(file);
  return imports.filter((t) => {
    const target = path.dirname(t);
    return target !== dir && dir.startsWith(target + path.sep);
  });
}

/** The folders of `src` (relative to it, `.` for its root) and the folders each one's files import from. */
export function folderGraph(src: string, graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [f, imports] of graph) {
    const from = path.relative(src, path.dirname(f)) || '.';
    const set = out.get(from) ?? new Set<string>();
    out.set(from, set);
    for (const t of imports) {
      const to = path.relative(src, path.dirname(t)) || '.';
      if (to !== from) set.add(to);
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v]]));
}

describe('house rules', () => {
  const files = ['packages', 'examples', 'scripts', 'bench'].flatMap((d) => walk(path.join(root, d)));

  it('npm run lint (Biome: formatter and linter, lines of at most 120 characters) passes on the tree', function () {
    this.timeout(120_000);
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/lint.mjs')], { cwd: root, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-4000)).to.equal(0);
  });

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f: path.relative(root, f), n: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.n > MAX_LINES)
      .map((x) => `${x.f} (${x.n})`);
    expect(long, 'split these files').to.deep.equal([]);
  });

  it('no package imports its own files in a circle', () => {
    for (const pkg of readdirSync(path.join(root, 'packages'))) {
      const src = path.join(root, 'packages', pkg, 'src');
      const graph = new Map<string, string[]>();
      for (const f of walk(src)) graph.set(f, relativeImports(f, readFileSync(f, 'utf8')));
      const cycle = findCycle(graph);
      expect(
        cycle?.map((f) => path.relative(root, f)),
        `${pkg}: an import cycle`,
      ).to.equal(undefined);
    }
  });

  it("core reads top-down: no file imports from a folder above its own, and core's folders import one way", () => {
    const src = path.join(root, 'packages/core/src');
    const graph = new Map<string, string[]>();
    for (const f of walk(src)) graph.set(f, relativeImports(f, readFileSync(f, 'utf8')));
    const up = [...graph].flatMap(([f, imports]) =>
      upwardImports(f, imports).map((t) => `${path.relative(src, f)} imports ${path.relative(src, t)}`),
    );
    expect(up, 'a file imports from a folder above its own (move the imported file into a folder)').to.deep.equal([]);
    const cycle = findCycle(folderGraph(src, graph));
    expect(cycle?.join(' -> '), "core's folders import each other in a circle").to.equal(undefined);
  });

  it('the upward-import finder tells an import from above from a sibling folder and the same folder', () => {
    const src = path.join(path.sep, 'p', 'src');
    const a = path.join(src, 'x', 'a.ts');
    const imports = [
      path.join(src, 'b.ts'),
      path.join(src, 'y', 'c.ts'),
      path.join(src, 'x', 'd.ts'),
      path.join(src, 'x', 'z', 'e.ts'),
      path.join(src, 'xy', 'f.ts'),
    ];
    expect(upwardImports(a, imports)).to.deep.equal([path.join(src, 'b.ts')]);
    expect(upwardImports(path.join(src, 'x', 'z', 'e.ts'), [path.join(src, 'x', 'a.ts')])).to.deep.equal([
      path.join(src, 'x', 'a.ts'),
    ]);
    expect(upwardImports(path.join(src, 'index.ts'), imports)).to.deep.equal([]);
    const folders = folderGraph(
      src,
      new Map([
        [a, [path.join(src, 'y', 'c.ts'), path.join(src, 'x', 'd.ts')]],
        [path.join(src, 'y', 'c.ts'), [a]],
      ]),
    );
    expect(folders.get('x')).to.deep.equal(['y']);
    expect(findCycle(folders)).to.deep.equal(['x', 'y', 'x']);
  });

  it('the cycle finder finds a cycle and the import reader reads every import form', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(findCycle(g)).to.deep.equal(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).to.equal(undefined);
    const self = fileURLToPath(import.meta.url);
    const text =
      "import { x } from './house.test.js';\nexport * from './packages.js';\nconst y = import('./house.test.js');";
    expect(relativeImports(self, text).map((f) => path.basename(f))).to.deep.equal([
      'house.test.ts',
      'packages.ts',
      'house.test.ts',
    ]);
  });
});
