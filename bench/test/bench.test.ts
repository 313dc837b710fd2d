import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface SmokeReport {
  smoke: boolean;
  rows: {
    id: string;
    ours: number | null;
    prom: number | null;
    promIo: number | null;
    platformatic: number | null;
    stock: number | null;
    none: number | null;
    ratioLabel: string;
    pending?: string;
  }[];
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
    const child = spawn(process.execPath, ['scripts/bench.mjs', '--smoke', '--json', json], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
      for (const [col, v] of [
        ['this SDK', r!.ours],
        ['prom-client', r!.prom],
        ['stock OTel', r!.stock],
      ] as const) {
        expect(v, `row ${id}: ${col}`).to.be.a('number');
        if (positive) expect(v, `row ${id}: ${col}`).to.be.above(0);
      }
    }
    // The gzip scrape compares with the JS clients behind level-1 zlib.gzip (the stock exporter serves no gzip); the
    // bytes on the wire are fewer than the uncompressed body's.
    for (const id of ['3d', '3e', '3g', '3k', '3l', '3m', '3n']) {
      const r = byId.get(id);
      expect(r, `row ${id}`).to.not.equal(undefined);
      expect(r!.ours, `row ${id}: this SDK`).to.be.a('number').and.to.be.above(0);
      expect(r!.prom, `row ${id}: prom-client`).to.be.a('number').and.to.be.above(0);
    }
    expect(byId.get('3e')!.ours!).to.be.below(byId.get('3b')!.ours!);
    // Heap after a gzip scrape too (6d): measured for this SDK and the JS clients (a few hundred series' growth can be
    // negative, like 6b's).
    for (const col of ['ours', 'prom', 'platformatic'] as const)
      expect(byId.get('6d')![col], `row 6d: ${col}`).to.be.a('number');
    // The gzip member cache's bytes (6e): this SDK's only, part of its 6d.
    expect(byId.get('6e')!.ours, 'row 6e').to.be.a('number').and.to.be.above(0);
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

  it('measures the faster JS clients beside prom-client and compares with the fastest of them', () => {
    const byId = new Map(report.rows.map((r) => [r.id, r]));
    // @prometheus-io/client supports Node >= 22 only: on older lines its cells stay empty and the run says why.
    const promIoRuns = Number(process.versions.node.split('.')[0]) >= 22;
    for (const id of ['1', '2', '3', '3d', '6', '8', '8b', '8c', '8d']) {
      const r = byId.get(id)!;
      expect(r.platformatic, `row ${id}: @platformatic/prom-client`).to.be.a('number').and.to.be.above(0);
      if (promIoRuns) expect(r.promIo, `row ${id}: @prometheus-io/client`).to.be.a('number').and.to.be.above(0);
      else expect(r.promIo, `row ${id}: @prometheus-io/client`).to.equal(null);
    }
    if (!promIoRuns)
      expect(stdout).to.include('not measured on this line: @prometheus-io/client 0.16.1 needs Node >= 22');
    // The scrape bars divide by the smallest anchor number of the run, and the label names that anchor.
    for (const id of ['1', '2', '3', '3d', '8']) {
      const r = byId.get(id)!;
      const anchors = {
        'prom-client': r.prom,
        '@prometheus-io/client': r.promIo,
        '@platformatic/prom-client': r.platformatic,
      };
      const fastest = Object.entries(anchors)
        .filter(([, v]) => typeof v === 'number')
        .sort((a, b) => a[1]! - b[1]!)[0]![0];
      expect(r.ratioLabel, `row ${id}`).to.equal(`this / fastest JS client: ${fastest}`);
    }
    // The load case measures this SDK too, and the load's own baseline.
    for (const id of ['8', '8b', '8c', '8d', '8e', '8f'])
      expect(byId.get(id)!.ours, `row ${id}: this SDK`).to.be.a('number').and.to.be.above(0);
  });

  it('prints the table', () => {
    expect(stdout).to.match(
      /^#\s+case\s+unit\s+this SDK\s+prom-client\s+@prometheus-io\/client\s+@platformatic\/prom-client\s+stock OTel/m,
    );
    for (const id of [
      '1',
      '1b',
      '2',
      '2b',
      '2c',
      '3',
      '3b',
      '3c',
      '3d',
      '3e',
      '3f',
      '3l',
      '3m',
      '3n',
      '3g',
      '3h',
      '3i',
      '3j',
      '3k',
      '4',
      '4b',
      '4c',
      '4d',
      '5',
      '5b',
      '5c',
      '5d',
      '6',
      '6b',
      '6c',
      '6d',
      '6e',
      '7',
      '7b',
      '7c',
      '8',
      '8b',
      '8c',
      '8d',
      '8e',
      '8f',
    ])
      expect(stdout).to.match(new RegExp(`^${id}\\s`, 'm'));
  });
});
