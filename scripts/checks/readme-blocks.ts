import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The fenced code blocks of every README in the repository and of the pages under docs/, as a reader sees them. The
 * info string after the fence says what a block is: `ts`, `js` (an ES module) and `cjs` (CommonJS) blocks are code
 * that runs as pasted (scripts/checks/readme-snippets.test.ts runs them); `sh`, `text`, `yaml`, `json` and `promql`
 * blocks are commands, output and configuration, not run. A code block that cannot run on its own says why after the
 * language: ```` ```js no-run: <reason> ````.
 */
export interface Block {
  /** The README or docs page, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The reason after `no-run:`, for code that cannot run standalone. */
  noRun?: string;
  /** The nearest heading above the block (`## Quick start`). */
  heading: string;
  code: string;
}

export const RUN_LANGS = ['ts', 'js', 'cjs'];
export const OTHER_LANGS = ['sh', 'text', 'yaml', 'json', 'promql'];

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every README.md and docs/*.md tracked by git (or about to be: untracked files that are not ignored). */
export function readmeFiles(): string[] {
  const r = spawnSync(
    'git',
    ['ls-files', '-co', '--exclude-standard', '--', 'README.md', '**/README.md', 'docs/*.md'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  return [...new Set(r.stdout.split('\n').filter(Boolean))].sort();
}

export function blocksOf(file: string, text = readFileSync(path.join(root, file), 'utf8')): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) {
      if (/^#{1,6} /.test(lines[i]!)) heading = lines[i]!;
      continue;
    }
    const info = open[1]!.trim();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const lang = info.split(/\s+/)[0] ?? '';
    const noRun = /\bno-run:\s*(.*)$/.exec(info)?.[1]?.trim();
    blocks.push({
      file,
      line: start + 1,
      lang,
      ...(noRun !== undefined ? { noRun } : {}),
      heading,
      code: body.join('\n') + '\n',
    });
  }
  return blocks;
}

export function allBlocks(): Block[] {
  return readmeFiles().flatMap((f) => blocksOf(f));
}

/** `README.md:42` */
export const where = (b: Block): string => `${b.file}:${b.line}`;
