import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRIVATE_PACKAGES, PUBLIC_PACKAGES } from './packages.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (rel: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(root, rel), 'utf8')) as Record<string, unknown>;

/** The supported Node.js versions: posthog-node's range (the narrowest of our dependencies), said once for all. */
const NODE_RANGE = '^20.20.0 || >=22.22.0';

describe('package manifests', () => {
  it(`every package.json has engines.node ${NODE_RANGE} (a private example may require a later Node 22+ only)`, () => {
    expect(PRIVATE_PACKAGES).to.include.members(['.', 'bench', 'scripts/testing', 'examples/tuist-server']);
    for (const dir of PUBLIC_PACKAGES)
      expect((read(`${dir}/package.json`).engines as { node?: string } | undefined)?.node, dir).to.equal(NODE_RANGE);
    for (const dir of PRIVATE_PACKAGES) {
      const range = (read(`${dir}/package.json`).engines as { node?: string } | undefined)?.node;
      if (range === NODE_RANGE) continue;
      // e.g. the OpenTelemetry 3.x example: `>=22.22.0` lies inside the supported range.
      const min = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(range ?? '');
      expect(
        min && (Number(min[1]) > 22 || (Number(min[1]) === 22 && Number(min[2]) >= 22)),
        `${dir}: engines.node ${range}`,
      ).to.equal(true);
    }
  });

  it("the range is posthog-node's own (analytics depends on it)", () => {
    // posthog-node does not export its package.json; read it where pnpm links it for analytics.
    const posthog = read('packages/analytics/node_modules/posthog-node/package.json') as { engines: { node: string } };
    expect(posthog.engines.node).to.equal(NODE_RANGE);
  });

  it('the READMEs and docs/ state that range and no other Node.js minimum', () => {
    const docs = readdirSync(path.join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    const readmes = ['README.md', ...PUBLIC_PACKAGES.map((d) => `${d}/README.md`), ...docs];
    const all = readmes.map((r) => readFileSync(path.join(root, r), 'utf8')).join('\n');
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).to.contain('`' + NODE_RANGE + '`');
    expect(all).to.not.match(/Node(\.js)? *(>=|≥) *2\d\b/);
    // (Statements about newer lines, e.g. "tested on Node 24", are fine; a different minimum is not.)
    expect(all).to.not.match(/Node(\.js)? 20(\.\d+)? (or later|and later|\+)/);
  });

  it('public packages build before packing, ship dist without .tsbuildinfo, and are not private', () => {
    for (const dir of PUBLIC_PACKAGES) {
      const pkg = read(`${dir}/package.json`) as {
        private?: boolean;
        files?: string[];
        scripts?: Record<string, string>;
        version?: string;
      };
      expect(pkg.private, dir).to.not.equal(true);
      expect(pkg.version, dir).to.be.a('string');
      expect(pkg.scripts?.prepack, dir).to.equal('tsc -b');
      expect(pkg.files, dir).to.include('dist').and.include('!dist/.tsbuildinfo');
    }
  });

  it("published exports are the workspace's without the `source` condition (pnpm packs publishConfig.exports)", () => {
    // The `source` condition points the workspace's tests at src/*.ts; in a user's app (which may use a condition
    // of that name for its own packages) it would resolve to TypeScript that Node cannot load.
    const strip = (e: unknown): unknown =>
      e && typeof e === 'object'
        ? Object.fromEntries(
            Object.entries(e)
              .filter(([k]) => k !== 'source')
              .map(([k, v]) => [k, strip(v)]),
          )
        : e;
    for (const dir of PUBLIC_PACKAGES) {
      const pkg = read(`${dir}/package.json`) as { exports?: unknown; publishConfig?: { exports?: unknown } };
      expect(
        pkg.publishConfig?.exports,
        `${dir}: publishConfig.exports must be exports without "source" (update it with every new entry)`,
      ).to.deep.equal(strip(pkg.exports));
    }
  });

  it('private packages are private and refuse to be packed', () => {
    for (const dir of PRIVATE_PACKAGES) {
      const pkg = read(`${dir}/package.json`) as { private?: boolean; scripts?: Record<string, string> };
      expect(pkg.private, dir).to.equal(true);
      expect(pkg.scripts?.prepack, dir).to.match(/never packed or published.*process\.exit\(1\)/);
    }
    expect((read('.changeset/config.json') as { privatePackages?: unknown }).privatePackages).to.deep.equal({
      version: false,
      tag: false,
    });
  });

  it('the OTLP exporters are optional peers of core (and dev dependencies for its tests), not dependencies', () => {
    const core = read('packages/core/package.json') as Record<string, Record<string, unknown>>;
    for (const pkg of [
      '@opentelemetry/exporter-metrics-otlp-proto',
      '@opentelemetry/exporter-metrics-otlp-http',
      '@opentelemetry/exporter-metrics-otlp-grpc',
    ]) {
      expect(core.dependencies, pkg).to.not.have.property(pkg);
      expect(core.peerDependencies, pkg).to.have.property(pkg);
      expect(core.peerDependenciesMeta?.[pkg], pkg).to.deep.equal({ optional: true });
      expect(core.devDependencies, pkg).to.have.property(pkg);
    }
  });
});
