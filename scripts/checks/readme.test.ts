import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog } from '../../packages/core/src/catalog/index.js';
import { currentReference, referencePath, renderReference } from '../metric-reference.js';
import { blocksOf } from './readme-blocks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const docs = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort();

/** The relative link targets of a Markdown page (`[text](target)`), without their `#anchor`; web links left out. */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#'))
    .map((t) => t.replace(/#.*$/, ''));
}

/** The `#anchor`s GitHub gives the headings of a Markdown file (headings inside code blocks are not headings). */
function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, '');
  const slug = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe('metric reference (docs/metrics.md)', () => {
  it('is the one derived from the catalog (regenerate with scripts/metric-reference.ts --write)', () => {
    const page = readFileSync(referencePath(), 'utf8');
    expect(currentReference(page)).to.equal(renderReference());
  });

  it('names every catalog metric', () => {
    const ref = renderReference();
    for (const d of catalog) expect(ref, d.name).to.contain('`' + d.name + '`');
  });
});

describe('README fits a screen: what it is, the two commands, three ways to start, then links to docs/', () => {
  it('is at most 400 lines', () => {
    expect(readme.split('\n').length).to.be.at.most(400);
  });

  it('shows the two Quick start commands and the three ways to start, with their snippets, in its first 60 lines', () => {
    const first = readme.split('\n').slice(0, 60).join('\n');
    const blocks = blocksOf('README.md', first);
    // The block's closing fence is within the 60 lines too (an unclosed block runs to the end of `first`, past line 60).
    const code = (lang: string, needle: string) =>
      blocks.find((b) => b.lang === lang && b.code.includes(needle) && b.line + b.code.split('\n').length <= 60);
    expect(code('sh', 'npm run demo'), 'npm run demo').to.not.equal(undefined);
    expect(code('sh', 'npm test'), 'npm test').to.not.equal(undefined);
    expect(code('sh', 'node --import @tuist-telemetry/core/register'), 'zero code').to.not.equal(undefined);
    expect(code('js', 'startTelemetry('), 'startTelemetry() snippet').to.not.equal(undefined);
    const nodeSdk = code('ts', 'new NodeSDK(');
    expect(nodeSdk, 'NodeSDK snippet').to.not.equal(undefined);
    expect(nodeSdk!.code).to.contain('createMetricReader()').and.to.contain('tuistInstrumentations()');
  });

  it('every docs/ link in the README resolves to a file, and every docs/ page is linked from the README', () => {
    const targets = relativeLinks(readme).filter((t) => t.startsWith('docs/'));
    expect(targets.length).to.be.greaterThan(0);
    for (const t of targets) expect(existsSync(path.join(root, t)), `README.md links to ${t}`).to.equal(true);
    for (const page of docs) expect(targets, `README.md links to docs/${page}`).to.include(`docs/${page}`);
  });

  it('every relative link of a docs/ page resolves to a file', () => {
    for (const page of docs) {
      const text = readFileSync(path.join(root, 'docs', page), 'utf8');
      for (const t of relativeLinks(text))
        expect(existsSync(path.join(root, 'docs', t)), `docs/${page} links to ${t}`).to.equal(true);
    }
  });

  it('every #anchor of a link from the README or a docs/ page to a Markdown file names one of its headings', () => {
    for (const page of ['README.md', ...docs.map((d) => `docs/${d}`)]) {
      const text = readFileSync(path.join(root, page), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s#]*)#([^)\s]+)\)/g)) {
        const target = m[1] ? path.join(root, path.dirname(page), m[1]) : path.join(root, page);
        if (!target.endsWith('.md') || /^[a-z]+:/i.test(m[1]!)) continue;
        expect([...anchorsOf(target)], `${page} links to ${m[1]}#${m[2]}`).to.include(m[2]);
      }
    }
  });

  it('the environment-variable reference sits in docs/configuration.md between its settings markers', () => {
    const page = readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
    const start = page.indexOf('<!-- settings:start -->');
    const end = page.indexOf('<!-- settings:end -->');
    expect(start, 'settings:start marker').to.be.at.least(0);
    expect(end, 'settings:end marker after settings:start').to.be.greaterThan(start);
    const table = page.slice(start, end);
    for (const v of ['OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_PROMETHEUS_PORT', 'TUIST_TELEMETRY_MAX_SERIES_PER_METRIC'])
      expect(table, v).to.contain(v);
  });
});
