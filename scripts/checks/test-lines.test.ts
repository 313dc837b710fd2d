import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JavaScript module of the test runner, without type declarations
import { lineSpecs, NODE26_SPECS, OTEL3_SPECS, RUNTIME_SPECS, specsForLine, supportsOtel3 } from '../test-lines.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The test files a spec of the form `dir/**\/*.test.ts` or `dir/file.test.ts` names. */
function filesOf(spec: string): string[] {
  if (!spec.includes('*')) return existsSync(path.join(root, spec)) ? [spec] : [];
  const base = spec.slice(0, spec.indexOf('/**/'));
  const dir = path.join(root, base);
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${base}/${f}`);
}

describe('npm test on the other Node lines (scripts/test-lines.mjs)', () => {
  it('every suite it names exists, so a moved suite cannot drop out of the matrix unnoticed', () => {
    for (const spec of lineSpecs as string[]) expect(filesOf(spec), spec).to.not.be.empty;
    // The Bun and Deno suites run once (npm test ignores them on the matrix lines): they must exist too.
    for (const spec of RUNTIME_SPECS as string[]) expect(filesOf(spec), spec).to.not.be.empty;
  });

  it('covers core (with its NodeSDK app), the zero-code apps, the end-to-end Prometheus test and the OpenTelemetry 3.x app', () => {
    const files = (lineSpecs as string[]).flatMap(filesOf);
    for (const f of [
      'packages/core/test/nodesdk.test.ts',
      'examples/tuist-server/test/prometheus.test.ts',
      'examples/otel3-app/test/otel3.test.ts',
    ]) {
      expect(files, f).to.include(f);
    }
    expect(files.some((f) => f.startsWith('examples/zero-code/test/'))).to.equal(true);
    expect(OTEL3_SPECS).to.not.be.empty;
  });

  it('Node 26 runs the loader-hook suites (register, ES module patching, no DEP0205), every one of which exists', () => {
    const files = (specsForLine('26') as string[]).flatMap(filesOf);
    expect(files).to.have.length((NODE26_SPECS as string[]).length);
    for (const f of [
      'packages/core/test/register-instrumentations.test.ts',
      'examples/zero-code/test/zero-code.test.ts',
    ])
      expect(files, f).to.include(f);
    expect(specsForLine('24')).to.equal(lineSpecs);
    expect(specsForLine('22')).to.equal(lineSpecs);
  });

  it('leaves the OpenTelemetry 3.x app out only where OTel 3 cannot run (Node < 22.15)', () => {
    expect(supportsOtel3('20.20.2')).to.equal(false);
    expect(supportsOtel3('22.14.0')).to.equal(false);
    expect(supportsOtel3('22.15.0')).to.equal(true);
    expect(supportsOtel3('24.22.3')).to.equal(true);
  });
});

describe('the reporter (scripts/mocha-reporter.cjs)', () => {
  it('names each failed test, with its message, just before the closing line CI reads, and in the summary file', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-reporter-'));
    try {
      const spec = path.join(dir, 'two.spec.cjs');
      writeFileSync(
        spec,
        "const assert = require('node:assert');\n" +
          "describe('suite', () => { it('breaks', () => assert.equal(1, 2)); it('holds', () => {}); });\n",
      );
      const summary = path.join(dir, 'summary.json');
      const r = spawnSync(
        process.execPath,
        ['node_modules/mocha/bin/mocha.js', '--no-config', '--reporter', './scripts/mocha-reporter.cjs', spec],
        { cwd: root, encoding: 'utf8', env: { ...process.env, TUIST_TEST_SUMMARY: summary } },
      );
      const tail = r.stdout.trimEnd().split('\n').slice(-3);
      expect(tail[0]).to.equal('failed:');
      expect(tail[1]).to.match(/^ {2}suite breaks: .*1 [!=]+ 2|^ {2}suite breaks: Expected values/);
      expect(tail[2]).to.equal('tests: 1 passed, 1 failed');
      const counts = JSON.parse(readFileSync(summary, 'utf8'));
      expect(counts).to.include({ passed: 1, failed: 1 });
      expect(counts.failures).to.have.length(1);
      expect(counts.failures[0]).to.match(/^suite breaks: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
