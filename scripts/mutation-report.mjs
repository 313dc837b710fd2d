// The per-file score table of `npm run mutate` (scripts/mutate.mjs) in MUTATION.md: rows of the files a run measured
// replace theirs, the other rows stay as earlier runs left them. Text outside the marked tables (the survivors
// judged equivalent, written by hand) is never touched.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FILES = ['<!-- mutation-files:start -->', '<!-- mutation-files:end -->'];
const SHARDS = ['<!-- mutation-shards:start -->', '<!-- mutation-shards:end -->'];
const FILE_HEADER = [
  '| File | Score | Score (covered code) | Killed | Timed out | Survived | Not covered | Shard | Measured |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
];
const SHARD_HEADER = ['| Shard | Files | Minutes | Measured |', '| --- | ---: | ---: | --- |'];

export const formatMinutes = (m) => `${m.toFixed(1)} min`;
const pct = (n, d) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`);

/**
 * One row per mutated file of a Stryker JSON report (mutation-testing-report-schema). Stryker's score: killed and
 * timed-out mutants over all but ignored and erroring ones; the covered score leaves out mutants no test reached.
 */
export function fileRows(report, shard) {
  return Object.entries(report.files ?? {}).map(([file, { mutants }]) => {
    const n = (status) => mutants.filter((m) => m.status === status).length;
    const killed = n('Killed');
    const timeout = n('Timeout');
    const survived = n('Survived');
    const noCoverage = n('NoCoverage');
    const detected = killed + timeout;
    return {
      file: path.isAbsolute(file) ? path.relative(process.cwd(), file) : file,
      shard,
      killed,
      timeout,
      survived,
      noCoverage,
      total: detected + survived + noCoverage,
      score: pct(detected, detected + survived + noCoverage),
      covered: pct(detected, detected + survived),
    };
  });
}

/**
 * One row per file: a file cut into line ranges over several shards (core-otel-failures) has its counts added up, its
 * shard column naming them all (a run of only some of them scores only their lines).
 */
export function mergeRows(rows) {
  const byFile = new Map();
  for (const r of rows) {
    const m = byFile.get(r.file);
    if (!m) byFile.set(r.file, { ...r });
    else for (const k of ['killed', 'timeout', 'survived', 'noCoverage', 'total']) m[k] += r[k];
    if (m) m.shard = `${m.shard} + ${r.shard}`;
  }
  return [...byFile.values()].map((r) => {
    const detected = r.killed + r.timeout;
    return { ...r, score: pct(detected, r.total), covered: pct(detected, detected + r.survived) };
  });
}

/** Replaces the rows of `rows`' files and of `shardRuns`' shards in the score file (created when missing). */
export function updateScoreFile(file, rows, shardRuns, date) {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : skeleton();
  const fileLines = rows.map(
    (r) =>
      `| \`${r.file}\` | ${r.score} | ${r.covered} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.shard} | ${date} |`,
  );
  text = replaceRows(text, FILES, FILE_HEADER, fileLines, new Set(rows.map((r) => `\`${r.file}\``)));
  const shardLines = shardRuns.map((s) => `| ${s.name} | ${s.files} | ${s.minutes.toFixed(1)} | ${date} |`);
  text = replaceRows(text, SHARDS, SHARD_HEADER, shardLines, new Set(shardRuns.map((s) => s.name)));
  writeFileSync(file, text);
}

function replaceRows(text, [start, end], header, fresh, keys) {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`MUTATION.md lost its ${start} … ${end} markers; put them back around the table`);
  const old = text
    .slice(a + start.length, b)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !header.includes(l));
  const kept = old.filter((l) => !keys.has(l.split('|')[1].trim()));
  const all = [...kept, ...fresh].sort((x, y) => x.split('|')[1].trim().localeCompare(y.split('|')[1].trim()));
  return `${text.slice(0, a + start.length)}\n${[...header, ...all].join('\n')}\n${text.slice(b)}`;
}

function skeleton() {
  return `# Mutation scores\n\n${FILES[0]}\n${FILES[1]}\n\n${SHARDS[0]}\n${SHARDS[1]}\n`;
}
