import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { signalSuite } from './signal-suite.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The Bun or Deno binary from the per-user cache (scripts/node-lines.mjs), as runtimes.test.ts finds it. */
async function binary(name: 'bun' | 'deno'): Promise<string> {
  const lines = (await import(pathToFileURL(path.join(root, 'scripts', 'node-lines.mjs')).href)) as {
    runtimeBinary(name: string): Promise<string>;
  };
  return lines.runtimeBinary(name);
}

signalSuite({
  name: 'Bun',
  binary: () => binary('bun'),
  plain: [],
  preload: ['--preload', '@tuist-telemetry/core/register'],
  servers: ['node:http', 'native'],
});

signalSuite({
  name: 'Deno',
  binary: () => binary('deno'),
  plain: ['run', '-A'],
  preload: ['run', '-A', '--preload', './node_modules/@tuist-telemetry/core/dist/register.js'],
  servers: ['node:http', 'native'],
});
