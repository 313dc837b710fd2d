import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tuistInstrumentations } from '@tuist-telemetry/core';

function captureDiag(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const push = (m: string, ...a: unknown[]) => void messages.push([m, ...a].join(' '));
  const l: DiagLogger = { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} };
  // Replaces whatever logger is set (core's default one, installed by an earlier startTelemetry() in this process).
  diag.setLogger(l, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { messages, restore: () => diag.disable() };
}

/** A throwaway app folder whose node_modules holds a fake @tuist-telemetry/db (and optionally pg). */
function fakeApp(
  withPg: boolean,
  source = "exports.TuistPgInstrumentation = class { constructor() { this.instrumentationName = 'fake-pg'; } };",
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-instr-'));
  const db = path.join(dir, 'node_modules', '@tuist-telemetry', 'db');
  mkdirSync(db, { recursive: true });
  writeFileSync(path.join(db, 'package.json'), JSON.stringify({ name: '@tuist-telemetry/db', main: 'index.cjs' }));
  writeFileSync(path.join(db, 'index.cjs'), source);
  if (withPg) {
    const pg = path.join(dir, 'node_modules', 'pg');
    mkdirSync(pg, { recursive: true });
    writeFileSync(path.join(pg, 'package.json'), JSON.stringify({ name: 'pg', main: 'index.js' }));
    writeFileSync(path.join(pg, 'index.js'), '');
  }
  return dir;
}

describe('core: tuistInstrumentations() finds the installed ones from the app', () => {
  it('loads one whose package and library are installed, skips quietly one whose library is not', () => {
    const withPg = fakeApp(true);
    const withoutPg = fakeApp(false);
    const d = captureDiag();
    try {
      const found = tuistInstrumentations({ appDirectories: [withPg], env: {} }).map((i) => i.instrumentationName);
      expect(found).to.deep.equal(['fake-pg']);
      expect(tuistInstrumentations({ appDirectories: [withoutPg], env: {} })).to.deep.equal([]);
      expect(d.messages, 'skipping is quiet').to.deep.equal([]);
    } finally {
      d.restore();
      rmSync(withPg, { recursive: true, force: true });
      rmSync(withoutPg, { recursive: true, force: true });
    }
  });

  it('honours OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS; an unknown name gets one warning listing the valid ones', () => {
    const app = fakeApp(true);
    const d = captureDiag();
    try {
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' } }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,undici' } }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({ appDirectories: [app], env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' pg , express' } }),
      ).to.have.length(1);
      // Named in both: disabled wins, as OpenTelemetry's auto-instrumentations decide.
      expect(
        tuistInstrumentations({
          appDirectories: [app],
          env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,http', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' },
        }),
      ).to.have.length(0);
      expect(
        tuistInstrumentations({
          appDirectories: [app],
          env: { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' },
        }),
      ).to.have.length(1);
      expect(d.messages).to.have.length(1);
      expect(d.messages[0]).to.contain('"express"').and.contain('pg, undici, aws-sdk, http');
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('a selection variable with a control character is ignored with one warning naming it, never thrown', () => {
    const app = fakeApp(true);
    const d = captureDiag();
    try {
      const env = { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg\u001b[0m' };
      expect(tuistInstrumentations({ appDirectories: [app], env })).to.have.length(1);
      expect(d.messages).to.have.length(1);
      expect(d.messages[0]).to.contain('OTEL_NODE_DISABLED_INSTRUMENTATIONS contains a control character');
      expect(d.messages[0]).to.contain('ignored');
      // The other variable still counts: one bad variable does not drop the whole selection.
      const both = { ...env, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' };
      expect(tuistInstrumentations({ appDirectories: [app], env: both })).to.have.length(0);
    } finally {
      d.restore();
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('a package without the class (another version), one whose module or constructor throws: skipped with a warning, never thrown', () => {
    const apps = [
      fakeApp(true, 'exports.SomethingElse = 1;'),
      fakeApp(true, "throw new Error('broken install');"),
      fakeApp(true, "exports.TuistPgInstrumentation = class { constructor() { throw new Error('nope'); } };"),
    ];
    const d = captureDiag();
    try {
      for (const app of apps) expect(tuistInstrumentations({ appDirectories: [app], env: {} })).to.deep.equal([]);
      expect(d.messages).to.have.length(3);
      expect(d.messages[0]).to.contain('has no TuistPgInstrumentation');
      expect(d.messages[1]).to.contain('could not be loaded');
      expect(d.messages[2]).to.contain('could not be created');
    } finally {
      d.restore();
      for (const app of apps) rmSync(app, { recursive: true, force: true });
    }
  });
});
