#!/usr/bin/env node
// Writes the Grafana dashboards in ./dashboards from the compact definitions in ./lib:
//   node examples/grafana/build-dashboards.mjs          (write)
//   node examples/grafana/build-dashboards.mjs --check  (exit 1 when the checked-in files differ)
// lib/promql.mjs holds the queries (histograms classic or native by the Histograms variable), lib/panels.mjs the
// Grafana JSON model, lib/tuist-dashboards.mjs and lib/platform-dashboards.mjs the dashboards themselves.
// The JSON files are checked in (Grafana reads them as they are); tests in examples/tuist-server check that every
// expression is accepted by a real Prometheus and returns data from the demo with classic and with native
// histograms, that the latency queries return the quantiles of a known distribution, that they use only catalog
// metrics, and that these files are what this script writes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboard } from './lib/panels.mjs';
import { database, httpClient, nodeRuntime } from './lib/platform-dashboards.mjs';
import { runsCache, storage } from './lib/tuist-dashboards.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashboards = [runsCache, storage, httpClient, database, nodeRuntime];

/**
 * JSON text as the repository's formatter writes it (`node scripts/lint.mjs --write` formats these files too, so the
 * checked-in files and this script's output must agree): Biome over stdin, with the tree's biome.jsonc.
 */
function biomeFormat(file, text) {
  const root = path.resolve(here, '../..');
  const bin = createRequire(path.join(root, 'package.json')).resolve('@biomejs/biome/bin/biome');
  const r = spawnSync(process.execPath, [bin, 'format', `--stdin-file-path=examples/grafana/dashboards/${file}`], {
    cwd: root,
    input: text,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`biome format failed for ${file}: ${r.stderr}`);
  return r.stdout;
}

/** The dashboards as file name -> JSON text. */
export function renderDashboards() {
  return Object.fromEntries(
    dashboards.map((d) => [`${d.uid}.json`, biomeFormat(`${d.uid}.json`, JSON.stringify(dashboard(d), null, 2))]),
  );
}

// `--check`: exit 1 when the checked-in files differ from what this script writes (or when one is extra/missing).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rendered = renderDashboards();
  if (process.argv.includes('--check')) {
    const dir = path.join(here, 'dashboards');
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const stale = [...new Set([...onDisk, ...Object.keys(rendered)])].filter(
      (f) => !existsSync(path.join(dir, f)) || rendered[f] !== readFileSync(path.join(dir, f), 'utf8'),
    );
    if (stale.length) {
      console.error(`out of date: ${stale.join(', ')}; run node examples/grafana/build-dashboards.mjs`);
      process.exit(1);
    }
    console.log('dashboards are up to date');
  } else {
    for (const [file, text] of Object.entries(rendered)) {
      writeFileSync(path.join(here, 'dashboards', file), text);
      console.log(`wrote examples/grafana/dashboards/${file}`);
    }
  }
}
