import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The house rules of the developers' guide, checked on the whole tree: the linter and formatter pass, no source
 * file is over 400 lines, and no package's sources import each other in a circle.
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
