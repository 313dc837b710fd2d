import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

// Tests run from source through tsx, which strips types without checking them; this keeps the tests (and the
// examples and benchmarks) honest TypeScript.
const projects = [
  ...['core', 'storage', 'http', 'db', 'analytics'].map((p) => `packages/${p}/tsconfig.test.json`),
  'examples/tuist-server/tsconfig.json',
  'examples/zero-code/tsconfig.json',
  'examples/otel3-app/tsconfig.json',
  'bench/tsconfig.json',
].filter((p) => existsSync(path.join(root, p)));

describe('type check (strict TypeScript) of sources, tests, examples and benchmarks', () => {
  for (const project of projects) {
    it(project, () => {
      const r = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    });
  }
});
