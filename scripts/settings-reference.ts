// Renders the configuration reference (every option and environment variable of core) from core's settings table
// (packages/core/src/settings/table.ts, the single source) and checks or rewrites the part of docs/configuration.md
// between the markers. `node --import tsx --conditions=source scripts/settings-reference.ts --write`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS, type Setting } from '../packages/core/src/settings/table.js';

export const START = '<!-- settings:start -->';
export const END = '<!-- settings:end -->';

const TYPES: Record<Setting['type'], string> = {
  integer: 'integer',
  number: 'number',
  boolean: 'boolean',
  enum: 'one of',
  list: 'comma list',
  string: 'string',
  url: 'URL',
  credentials: 'credentials',
  object: 'object',
};

const code = (s: string | number | boolean): string => `\`${s}\``;
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function variables(s: Setting): string {
  if (!s.env?.length) return '';
  return s.env.map(code).join(', ') + (s.otel ? ' (OpenTelemetry)' : '');
}

function defaultOf(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  return s.default === undefined ? '' : code(s.default);
}

function bounds(s: Setting): string {
  if (s.boundsText !== undefined) return s.boundsText;
  if (s.min !== undefined && s.max !== undefined) return `${s.min} to ${s.max}`;
  if (s.values) return s.values.map(code).join(', ');
  if (s.type === 'boolean') return '`true` or `false` (variable: also `1` or `0`)';
  return '';
}

function doc(s: Setting): string {
  return s.readBy ? `${s.doc} (read by ${s.readBy})` : s.doc;
}

/** The generated part: the markers and the table between them. */
export function renderSettings(): string {
  let out = `${START}\n<!-- generated from packages/core/src/settings/table.ts by scripts/settings-reference.ts; do not edit by hand -->\n\n`;
  out += '| Variable | Option | Type | Default | Bounds or values | What it does |\n|---|---|---|---|---|---|\n';
  for (const s of Object.values(SETTINGS) as Setting[]) {
    const option = s.option ? code(s.option) : '';
    out += `| ${cell(variables(s))} | ${option} | ${TYPES[s.type]} | ${cell(defaultOf(s))} | ${cell(bounds(s))} | ${cell(doc(s))} |\n`;
  }
  return `${out}\n${END}`;
}

export function configurationPath(): string {
  return fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
}

/** The generated part of `text` (markers included), or undefined when the markers are missing. */
export function currentSettings(text: string): string | undefined {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a < 0 || b < a ? undefined : text.slice(a, b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = configurationPath();
  const text = readFileSync(path, 'utf8');
  const cur = currentSettings(text);
  if (!cur) throw new Error('docs/configuration.md has no settings markers');
  if (process.argv.includes('--write')) {
    writeFileSync(
      path,
      text.replace(cur, () => renderSettings()),
    );
    console.log('docs/configuration.md settings reference updated');
  } else if (cur !== renderSettings()) {
    console.error('docs/configuration.md settings reference is out of date: run with --write');
    process.exit(1);
  }
}
