// Measurements in a fresh process: `child.ts <case> <impl>[,<impl>...] <params-json>`; prints one
// `RESULT <impl> <json>` line per implementation on stdout (a full run passes one implementation per process).
// `child.ts --rounds <case> <impl> <params-json>` (cases 4 and 5, rounds.ts): warms one implementation up, prints
// `READY`, then measures one block per `run` line on stdin and prints `ROUND <json>` for it, until stdin ends.
import { counterCase, histogramCase, type RecordingImpl } from './recording.js';
import { memoryCase, scrapeCase, type SeriesImpl } from './series.js';
import { openUndici, undiciCase, type Driver, type UndiciImpl } from './undici.js';
import { openPg, pgCase, type PgImpl } from './pg.js';
import { createInterface } from 'node:readline';
import type { CaseParams } from './plan.js';
import { loadCase } from './load.js';
import { clusterCase, CLUSTER_WORKERS, type ClusterImpl } from './cluster.js';

async function run(caseId: string, impl: string, p: CaseParams): Promise<Record<string, number>> {
  switch (caseId) {
    case 'counter':
      return counterCase(impl as RecordingImpl, p.ops);
    case 'histogram':
      return histogramCase(impl as RecordingImpl, p.ops);
    case 'scrape':
      return scrapeCase(impl as SeriesImpl, p.series, p.scrapes);
    case 'gzip':
      return scrapeCase(impl as SeriesImpl, p.series, p.scrapes, true);
    case 'concurrent':
      return scrapeCase(impl as SeriesImpl, p.series, p.scrapes, false, 20);
    case 'load':
      return loadCase(impl as SeriesImpl, p.loadSeries, p.scrapes, p.loadRps);
    case 'memory':
      return memoryCase(impl as SeriesImpl, p.series);
    case 'undici':
      return undiciCase(impl as UndiciImpl, p.requests, p.concurrency);
    case 'pg':
      return pgCase(impl as PgImpl, p.queries, p.concurrency);
    case 'cluster':
      return clusterCase(impl as ClusterImpl, Math.max(1, Math.round(p.series / CLUSTER_WORKERS)), p.scrapes);
    default:
      throw new Error(`unknown case ${caseId}`);
  }
}

async function rounds(caseId: string, impl: string, p: CaseParams): Promise<void> {
  const block = (caseId === 'pg' ? p.queries : p.requests) / p.rounds;
  const warmup = Math.ceil(block * 2);
  const d: Driver =
    caseId === 'pg'
      ? await openPg(impl as PgImpl, p.concurrency, warmup)
      : await openUndici(impl as UndiciImpl, p.concurrency, warmup);
  process.stdout.write('READY\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'run') continue;
    process.stdout.write(`ROUND ${JSON.stringify(await d.block(Math.ceil(block)))}\n`);
  }
  await d.close();
}

if (process.argv[2] === '--rounds') {
  const [, caseId, impl, params] = process.argv.slice(2);
  try {
    await rounds(caseId!, impl!, JSON.parse(params!) as CaseParams);
  } catch (err) {
    process.stderr.write(
      `${caseId}/${impl} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  }
  process.exit(0);
}

const [caseId, impls, params] = process.argv.slice(2);
for (const impl of impls!.split(',')) {
  try {
    const result = await run(caseId!, impl, JSON.parse(params!) as CaseParams);
    process.stdout.write(`RESULT ${impl} ${JSON.stringify(result)}\n`);
  } catch (err) {
    process.stderr.write(
      `${caseId}/${impl} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  }
}
process.exit(0);
