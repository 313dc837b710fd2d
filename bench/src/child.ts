// Measurements in a fresh process: `child.ts <case> <impl>[,<impl>...] <params-json>`; prints one
// `RESULT <impl> <json>` line per implementation on stdout (a full run passes one implementation per process).
import { counterCase, histogramCase, type RecordingImpl } from './recording.js';
import { memoryCase, scrapeCase, type SeriesImpl } from './series.js';
import { undiciCase, type UndiciImpl } from './undici.js';
import { pgCase, type PgImpl } from './pg.js';
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
