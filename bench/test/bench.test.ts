import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface SmokeReport {
  smoke: boolean;
  rows: { id: string; ours: number | null; prom: number | null; stock: number | null; none: number | null; pending?: string }[];
  errors: string[];
}

describe('bench: `npm run bench -- --smoke` (the benchmark code keeps working; no timings asserted)', function () {
  // Every case runs in its own processes (PostgreSQL included): slow on a busy 2-core machine, not a measurement.
  this.timeout(240_000);
  let dir: string;
  let report: SmokeReport;
  let stdout = '';
  let code: number | null;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tuist-bench-smoke-'));
    const json = path.join(dir, 'smoke.json');
    const child = spawn(process.execPath, ['scripts/bench.mjs', '--smoke', '--json', json], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) console.error(stderr);
    report = JSON.parse(readFileSync(json, 'utf8')) as SmokeReport;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('completes without a failed case', () => {
    expect(report.errors).to.deep.equal([]);
    expect(code).to.equal(0);
    expect(report.smoke).to.equal(true);
  });

  it('produces a table row with numbers for every case', () => {
    const byId = new Map(report.rows.map((r) => [r.id, r]));
    for (const id of ['1', '1b', '2', '2b', '2c', '3', '3b', '3c', '3i', '3j', '6', '6b', '6c']) {
      const r = byId.get(id);
      expect(r, `row ${id}`).to.not.equal(undefined);
      // RSS growth of a few hundred series can be negative (the allocator returns memory), and a short scrape may
      // not delay the event loop at all (3c); every other number is positive.
      const positive = !['3c', '6b', '6c'].includes(id);
      for (const [col, v] of [['this SDK', r!.ours], ['prom-client', r!.prom], ['stock OTel', r!.stock]] as const) {
        expect(v, `row ${id}: ${col}`).to.be.a('number');
        if (positive) expect(v, `row ${id}: ${col}`).to.be.above(0);
      }
    }
    // The gzip scrape compares with prom-client behind zlib's createGzip (the stock exporter serves no gzip); the
    // bytes on the wire are fewer than the uncompressed body's.
    for (const id of ['3d', '3e', '3g', '3k']) {
      const r = byId.get(id);
      expect(r, `row ${id}`).to.not.equal(undefined);
      expect(r!.ours, `row ${id}: this SDK`).to.be.a('number').and.to.be.above(0);
      expect(r!.prom, `row ${id}: prom-client`).to.be.a('number').and.to.be.above(0);
    }
    expect(byId.get('3e')!.ours!).to.be.below(byId.get('3b')!.ours!);
    // The protobuf body is smaller than the text one, and smaller again with gzip.
    expect(byId.get('3j')!.ours!).to.be.below(byId.get('3b')!.ours!);
    expect(byId.get('3k')!.ours!).to.be.below(byId.get('3j')!.ours!);
    // The cluster case compares with prom-client's AggregatorRegistry only.
    for (const id of ['7', '7b', '7c']) {
      const r = byId.get(id);
      expect(r, `row ${id}`).to.not.equal(undefined);
      expect(r!.ours, `row ${id}: this SDK`).to.be.a('number').and.to.be.above(0);
      expect(r!.prom, `row ${id}: prom-client`).to.be.a('number').and.to.be.above(0);
    }
    for (const id of ['4d', '5d']) {
      // The Instrumentation path against the stock instrumentation with its metrics on, side by side.
      expect(byId.get(id)?.stock, `row ${id}: stock instrumentation`).to.be.a('number').and.to.be.above(0);
    }
    for (const id of ['4', '4b', '4c', '4d', '5', '5b', '5c', '5d']) {
      const r = byId.get(id);
      expect(r, `row ${id}`).to.not.equal(undefined);
      expect(r!.pending, `row ${id} pending`).to.equal(undefined);
      expect(r!.ours, `row ${id}: instrumented`).to.be.a('number').and.to.be.above(0);
      expect(r!.none, `row ${id}: plain`).to.be.a('number').and.to.be.above(0);
    }
  });

  it('prints the table', () => {
    expect(stdout).to.match(/^#\s+case\s+unit\s+this SDK\s+prom-client\s+stock OTel/m);
    for (const id of ['1', '1b', '2', '2b', '3', '3b', '3c', '3d', '3e', '3f', '3g', '3h', '4', '4b', '4c', '4d', '5', '5b', '5c', '5d', '6', '6b', '6c', '7', '7b', '7c']) expect(stdout).to.match(new RegExp(`^${id}\\s`, 'm'));
  });
});
