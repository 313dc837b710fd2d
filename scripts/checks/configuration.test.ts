import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS, type Setting } from '../../packages/core/src/settings/table.js';
import { configurationPath, currentSettings, renderSettings } from '../settings-reference.js';

const coreSrc = fileURLToPath(new URL('../../packages/core/src', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.c?ts$/.test(name)) out.push(p);
  }
  return out;
}

/** Names in core's sources that look like variables but are not: a warning code and a global symbol's name. */
const NOT_VARIABLES = ['TUIST_TELEMETRY_UNSUPPORTED', 'OTEL_API_GLOBAL'];

/** `env.OTEL_X`, `env?.TUIST_TELEMETRY_X`, `env['OTEL_X']`: a variable read around the settings table. */
const DIRECT_READ = /\benv\??\.(?:OTEL|TUIST_TELEMETRY)_[A-Z_]+|\benv\??\.?\[\s*['"`](?:OTEL|TUIST_TELEMETRY)_[A-Z_]+/;

describe('configuration reference (docs/configuration.md)', () => {
  it("is the one generated from core's settings table (regenerate with scripts/settings-reference.ts --write)", () => {
    const text = readFileSync(configurationPath(), 'utf8');
    expect(currentSettings(text), 'the settings markers').to.be.a('string');
    expect(currentSettings(text)).to.equal(renderSettings());
  });

  it("names every environment variable core's sources mention, each declared once in the table", () => {
    const declared = (Object.values(SETTINGS) as Setting[]).flatMap((s) => s.env ?? []);
    // OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL are the shared fallbacks of metrics and traces.
    const shared = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL'];
    const twice = declared.filter((v, i) => declared.indexOf(v) !== i && !shared.includes(v));
    expect(twice, 'declared twice').to.deep.equal([]);
    const mentioned = new Set(
      sources(coreSrc).flatMap(
        (f) => readFileSync(f, 'utf8').match(/\b(?:OTEL|TUIST_TELEMETRY)_[A-Z_]*[A-Z]\b/g) ?? [],
      ),
    );
    const missing = [...mentioned].filter((v) => !declared.includes(v) && !NOT_VARIABLES.includes(v)).sort();
    expect(missing, 'variables missing from the settings table').to.deep.equal([]);
    const reference = renderSettings();
    for (const v of declared) expect(reference, v).to.contain('`' + v + '`');
  });

  it("reads every variable through the settings table's reader: no core file outside settings/ reads one itself", () => {
    const settingsDir = path.join(coreSrc, 'settings') + path.sep;
    const direct = sources(coreSrc)
      .filter((f) => !f.startsWith(settingsDir))
      .flatMap((f) =>
        (readFileSync(f, 'utf8').match(new RegExp(DIRECT_READ, 'g')) ?? []).map(
          (m) => `${path.relative(coreSrc, f)}: ${m}`,
        ),
      );
    expect(direct, 'read these through found() (settings/table.ts)').to.deep.equal([]);
    expect('const v = env.OTEL_LOG_LEVEL;').to.match(DIRECT_READ);
    expect("x = process.env['TUIST_TELEMETRY_CLUSTER']").to.match(DIRECT_READ);
    expect("found('logLevel', {}, env)").not.to.match(DIRECT_READ);
  });
});
