// Cases 4 and 5 (an instrumented client against the plain one) in interleaved rounds. Each implementation runs in its
// own warmed-up process (no JIT feedback shared between them) and they take turns, one block of requests at a time,
// in a balanced order (`balancedOrders`): what the shared machine does meanwhile hits every implementation alike, and
// each round gives a ratio of blocks measured moments apart. The report takes medians of those per-round ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Impl } from './cases.js';
import type { CaseParams } from './plan.js';
import { pinned } from './cpus.js';
import { startUpstream } from './undici.js';
import { median } from './utils.js';

/** One round: every implementation's block, with its ratios to the plain client's block of the same round. */
export type Round = Partial<Record<Impl, Record<string, number>>>;

interface Worker {
  impl: Impl;
  child: ChildProcess;
  next(): Promise<string>;
  stderr(): string;
}

function start(here: string, caseId: string, impl: Impl, params: CaseParams, env: NodeJS.ProcessEnv): Worker {
  const argv = ['--import', 'tsx', path.join(here, 'child.ts'), '--rounds', caseId, impl, JSON.stringify(params)];
  const [command, args] = pinned('client', process.execPath, argv);
  const child = spawn(command, args, { cwd: path.resolve(here, '..', '..'), env, stdio: 'pipe' });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let ended = false;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : lines.push(line)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w('');
  });
  return {
    impl,
    child,
    next: () =>
      lines.length > 0
        ? Promise.resolve(lines.shift()!)
        : ended
          ? Promise.resolve('')
          : new Promise((r) => waiting.push(r)),
    stderr: () => err,
  };
}

/**
 * The orders of `n` implementations' blocks, one per round in turn: a Williams design, in which every implementation
 * comes right after every other one equally often (once per ordered pair over the rows; odd n needs each row and its
 * reverse), and first in a round equally often. A block is measured right after another process's block, and that
 * neighbour leaves something behind: with a fixed cycle (a rotation of one order) the plain client always followed
 * the stock instrumentation, and the instrumented client read 0.950x of it; with the cycle changed so that it
 * followed the stock one instead, 0.956x (Node 24, 12 process sets of 8 rounds each, clients pinned).
 */
export function balancedOrders(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  // First row 0, 1, n-1, 2, n-2, ...; row r adds r to each (mod n).
  const first: number[] = [0];
  for (let lo = 1, hi = n - 1; first.length < n; ) {
    first.push(lo++);
    if (first.length < n) first.push(hi--);
  }
  const rows = Array.from({ length: n }, (_, r) => first.map((x) => (x + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/** The per-round ratios: `<metric>Ratio` against the plain client, and `cpuUsVsStock` of the Instrumentation path. */
export function withRatios(round: Round): Round {
  const plain = round.plain;
  for (const [impl, r] of Object.entries(round) as [Impl, Record<string, number>][]) {
    if (plain !== undefined && impl !== 'plain') {
      for (const k of Object.keys(plain)) if (!k.endsWith('Ratio')) r[`${k}Ratio`] = r[k]! / plain[k]!;
    }
  }
  const stock = round['stock-instr'];
  if (round.instrumentation !== undefined && stock !== undefined)
    round.instrumentation.cpuUsVsStock = round.instrumentation.cpuUs! / stock.cpuUs!;
  return round;
}

/**
 * One process set: every implementation of the case started and warmed up, then one unmeasured round and
 * `params.rounds` measured ones, in the balanced orders taken in turn from an offset of `rep`. Throws with the
 * children's errors.
 */
export async function runRounds(
  here: string,
  caseId: string,
  impls: Impl[],
  params: CaseParams,
  env: NodeJS.ProcessEnv,
  rep: number,
): Promise<Round[]> {
  // One keep-alive server for all implementations of case 4: a server process that happens to be slower or faster
  // weighs on every side alike (one block at a time, so they never share it at once).
  const upstream = caseId === 'undici' ? await startUpstream() : undefined;
  const childEnv = upstream ? { ...env, BENCH_UPSTREAM_URL: upstream.url } : env;
  const workers = impls.map((impl) => start(here, caseId, impl, params, childEnv));
  const fail = (w: Worker, what: string) =>
    new Error(`${caseId}/${w.impl} ${what}: ${w.stderr().trim().split('\n').slice(0, 6).join('\n')}`);
  try {
    for (const w of workers) if ((await w.next()) !== 'READY') throw fail(w, 'did not start');
    const rounds: Round[] = [];
    const orders = balancedOrders(workers.length);
    for (let r = -1; r < params.rounds; r++) {
      const round: Round = {};
      for (const i of orders[(rep * (params.rounds + 1) + r + 1) % orders.length]!) {
        const w = workers[i]!;
        w.child.stdin!.write('run\n');
        const m = /^ROUND (.*)$/.exec(await w.next());
        if (!m) throw fail(w, 'stopped');
        round[w.impl] = JSON.parse(m[1]!) as Record<string, number>;
      }
      if (r >= 0) rounds.push(withRatios(round));
    }
    return rounds;
  } finally {
    for (const w of workers) w.child.stdin!.end();
    await Promise.all(
      workers.map((w) => (w.child.exitCode !== null ? undefined : new Promise((r) => w.child.on('exit', r)))),
    );
    upstream?.stop();
  }
}

/** Every implementation's and ratio's median over `rounds`. */
export function medianOfRounds(rounds: Round[]): Round {
  const by: Partial<Record<Impl, Record<string, number[]>>> = {};
  for (const round of rounds) {
    for (const [impl, m] of Object.entries(round) as [Impl, Record<string, number>][]) {
      for (const [k, v] of Object.entries(m)) ((by[impl] ??= {})[k] ??= []).push(v);
    }
  }
  const out: Round = {};
  for (const [impl, m] of Object.entries(by) as [Impl, Record<string, number[]>][]) {
    out[impl] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
  }
  return out;
}
