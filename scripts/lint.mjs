#!/usr/bin/env node
// npm run lint: Biome's formatter and linter over the tree (biome.jsonc says what and why); `-- --write` fixes.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap } from './bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
bootstrap();
const bin = createRequire(path.join(root, 'package.json')).resolve('@biomejs/biome/bin/biome');
const r = spawnSync(process.execPath, [bin, 'check', ...process.argv.slice(2), '.'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
