import { expect } from 'chai';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseExposition, samples, scrape, value, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { catalog } from '@tuist-telemetry/core/internal';
import {
  countByConstructorName,
  heapSpaceLabel,
  parseMaxOpenFiles,
  parseProcStatus,
  versionLabels,
} from '../src/runtime/readings.js';

interface ChildReport {
  before: string;
  after: string;
  promClient: string;
  promLabelNames: Record<string, string[]>;
  countAtStop: number;
  countAfterStop: number;
  lagAtStop: number;
  lagAfterStop: number;
  cpuAtStop: number;
  cpuAfterStop: number;
}

function runChild(): Promise<ChildReport> {
  const script = fileURLToPath(new URL('./runtime-child.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--conditions=source', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`runtime-child.ts exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as ChildReport);
      } catch (e) {
        reject(new Error(`runtime-child.ts printed no JSON (${String(e)}): ${out}\n${err}`));
      }
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* block the event loop */
  }
}

const runtimeDefs = catalog.filter((d) => d.family === 'runtime');
const BEYOND_PROM_CLIENT = new Set(['nodejs_eventloop_utilization_ratio', 'tuist_runtime_info']);
const isRuntimeName = (name: string): boolean =>
  name.startsWith('process_') || name.startsWith('nodejs_') || name === 'tuist_runtime_info';

describe('core: runtime metrics side by side with prom-client 15 (child process, --expose-gc)', () => {
  let report: ChildReport;
  let ours: Exposition;
  let oursBefore: Exposition;
  let prom: Exposition;

  before(async () => {
    report = await runChild();
    oursBefore = parseExposition(report.before);
    ours = parseExposition(report.after);
    prom = parseExposition(report.promClient);
  });

  it("serves exactly prom-client's default metric names, plus nodejs_eventloop_utilization_ratio", () => {
    const promNames = [...prom.keys()].filter(isRuntimeName).sort();
    const ourNames = [...ours.keys()].filter(isRuntimeName).sort();
    expect(promNames.length).to.be.greaterThan(25);
    expect(ourNames.filter((n) => !BEYOND_PROM_CLIENT.has(n))).to.deep.equal(promNames);
    expect(ourNames).to.include('nodejs_eventloop_utilization_ratio');
    expect(runtimeDefs.map((d) => d.name).sort()).to.deep.equal(ourNames);
  });

  for (const def of runtimeDefs.filter((d) => !BEYOND_PROM_CLIENT.has(d.name))) {
    it(`${def.name}: same TYPE and label names as prom-client`, () => {
      const o = ours.get(def.name);
      const p = prom.get(def.name);
      expect(o, `ours lacks ${def.name}`).to.not.equal(undefined);
      expect(p, `prom-client lacks ${def.name}`).to.not.equal(undefined);
      expect(o!.type).to.equal(p!.type);
      expect(def.type).to.equal(p!.type);
      // prom-client's declared label names, and the label names on every sample either side serves.
      expect([...def.labels].sort()).to.deep.equal([...(report.promLabelNames[def.name] ?? [])].sort());
      const names = (fam: NonNullable<typeof o>): string[] => [
        ...new Set(
          fam.samples.map((s) =>
            Object.keys(s.labels)
              .filter((l) => l !== 'le')
              .sort()
              .join(','),
          ),
        ),
      ];
      if (p!.samples.length > 0) expect(names(o!)).to.deep.equal(names(p!));
      for (const label of names(o!)) expect(label).to.equal([...def.labels].sort().join(','));
      if (def.type === 'histogram') {
        const les = (fam: NonNullable<typeof o>): string[] => [
          ...new Set(fam.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le!)),
        ];
        expect(les(o!)).to.deep.equal(les(p!));
        expect(les(o!)).to.deep.equal(['0.001', '0.01', '0.1', '1', '2', '5', '+Inf']);
      }
      if (def.type === 'counter') expect(def.name.endsWith('_total')).to.equal(true);
    });
  }

  it('values agree with prom-client where they are the same reading', () => {
    expect(samples(ours, 'nodejs_version_info')[0]!.labels).to.deep.equal(
      samples(prom, 'nodejs_version_info')[0]!.labels,
    );
    expect(value(ours, 'process_max_fds')).to.equal(value(prom, 'process_max_fds'));
    expect(
      Math.abs(value(ours, 'process_start_time_seconds') - value(prom, 'process_start_time_seconds')),
    ).to.be.at.most(1);
    const spaces = (exp: Exposition): string[] =>
      samples(exp, 'nodejs_heap_space_size_used_bytes')
        .map((s) => s.labels.space!)
        .sort();
    expect(spaces(ours)).to.deep.equal(spaces(prom));
    // Ours counts the whole process's CPU time; prom-client counts from its registration (later): ours is larger.
    expect(value(ours, 'process_cpu_seconds_total')).to.be.greaterThan(value(prom, 'process_cpu_seconds_total'));
    const userSystem = value(ours, 'process_cpu_user_seconds_total') + value(ours, 'process_cpu_system_seconds_total');
    expect(value(ours, 'process_cpu_seconds_total')).to.be.closeTo(userSystem, 1e-6);
    for (const name of [
      'process_resident_memory_bytes',
      'process_virtual_memory_bytes',
      'process_heap_bytes',
      'process_open_fds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(value(ours, name), name).to.be.greaterThan(0);
    }
  });

  it("nodejs_gc_duration_seconds counts the forced collections, with prom-client's kind values", () => {
    const count = (exp: Exposition): number =>
      samples(exp, 'nodejs_gc_duration_seconds_count').reduce((a, s) => a + s.value, 0);
    expect(count(ours)).to.be.at.least(count(oursBefore) + 3);
    expect(value(ours, 'nodejs_gc_duration_seconds_count', { kind: 'major' })).to.be.at.least(3);
    for (const s of samples(ours, 'nodejs_gc_duration_seconds_count')) {
      expect(['major', 'minor', 'incremental', 'weakcb']).to.include(s.labels.kind);
    }
  });

  it('stopping disconnects the GC observer and the collection callbacks', () => {
    expect(report.countAtStop).to.be.greaterThan(0);
    expect(report.countAfterStop).to.equal(report.countAtStop);
    expect(report.lagAfterStop).to.equal(report.lagAtStop);
    expect(report.cpuAfterStop).to.equal(report.cpuAtStop);
  });
});

describe('core: runtime metrics in this process', () => {
  let t: Telemetry;

  before(async () => {
    t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, env: {}, setGlobalMeterProvider: false });
    await t.ready();
  });
  after(() => t.shutdown());

  it('the event-loop delay statistics rise when the loop is blocked, and reset after each collection', async () => {
    await scrape(t.url!); // resets the delay monitor
    // After a reset the monitor needs one tick (10 ms resolution) before it measures delays again.
    await sleep(30);
    busyWait(200);
    // The monitor sees a block at its next tick (every 10 ms): wait past one so it has recorded it.
    await sleep(20);
    const exp = await scrape(t.url!);
    expect(value(exp, 'nodejs_eventloop_lag_max_seconds')).to.be.at.least(0.1);
    expect(value(exp, 'nodejs_eventloop_lag_p99_seconds')).to.be.at.least(0.1);
    expect(value(exp, 'nodejs_eventloop_lag_min_seconds')).to.be.at.most(
      value(exp, 'nodejs_eventloop_lag_max_seconds'),
    );
    expect(value(exp, 'nodejs_eventloop_lag_mean_seconds')).to.be.above(0);
    expect(value(exp, 'nodejs_eventloop_utilization_ratio')).to.be.within(0.5, 1);
    // The block was in the previous window: the next one does not see it.
    await sleep(30);
    expect(value(await scrape(t.url!), 'nodejs_eventloop_lag_max_seconds')).to.be.below(
      value(exp, 'nodejs_eventloop_lag_max_seconds'),
    );
  });

  it('nodejs_eventloop_lag_seconds measures how late a setImmediate scheduled at a collection ran', async () => {
    // Render without a round trip: the probe is scheduled now and can only run after the block.
    await t.renderPrometheus();
    busyWait(200);
    await new Promise((r) => setImmediate(r)); // queued after the probe: the probe has run when this resolves
    const exp = await scrape(t.url!);
    expect(value(exp, 'nodejs_eventloop_lag_seconds')).to.be.at.least(0.1);
  });

  it('active handles are counted by type; types that went away disappear', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let exp: Exposition;
    try {
      exp = await scrape(t.url!);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(value(exp, 'nodejs_active_handles', { type: 'Server' })).to.be.at.least(1);
    expect(value(exp, 'nodejs_active_handles_total')).to.be.at.least(1);
    expect(value(exp, 'nodejs_active_resources', { type: 'TCPServerWrap' })).to.be.at.least(1);
    const total = samples(exp, 'nodejs_active_resources').reduce((a, s) => a + s.value, 0);
    expect(total).to.equal(value(exp, 'nodejs_active_resources_total'));
    const after = await scrape(t.url!);
    expect(samples(after, 'nodejs_active_handles', { type: 'Server' })).to.deep.equal([]);
  });

  it('TUIST_TELEMETRY_RUNTIME_METRICS=false turns every runtime metric off', async () => {
    const off = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      env: { TUIST_TELEMETRY_RUNTIME_METRICS: 'false' },
      setGlobalMeterProvider: false,
    });
    try {
      await off.ready();
      const exp = await scrape(off.url!);
      expect([...exp.keys()].filter(isRuntimeName)).to.deep.equal([]);
      expect(exp.has('tuist_application_info')).to.equal(true);
    } finally {
      await off.shutdown();
    }
  });
});

describe('core: runtime metric helpers', () => {
  it('parseProcStatus reads VmRSS, VmSize and VmData in bytes', () => {
    const text =
      'Name:\tnode\nVmPeak:\t 2000 kB\nVmSize:\t 1000 kB\nVmData:\t  300 kB\nVmRSS:\t   200 kB\nThreads:\t7\n';
    expect(parseProcStatus(text)).to.deep.equal({
      virtualBytes: 1000 * 1024,
      heapBytes: 300 * 1024,
      residentBytes: 200 * 1024,
    });
    expect(parseProcStatus('garbage')).to.deep.equal({});
  });

  it('parseMaxOpenFiles reads the soft limit', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(parseMaxOpenFiles(text)).to.equal(1024);
    expect(parseMaxOpenFiles('Max open files            unlimited            unlimited            files\n')).to.equal(
      undefined,
    );
    expect(parseMaxOpenFiles('')).to.equal(undefined);
  });

  it("heap space and version labels are prom-client's", () => {
    expect(heapSpaceLabel('new_space')).to.equal('new');
    expect(heapSpaceLabel('code_large_object_space')).to.equal('code_large_object');
    expect(versionLabels('v20.20.2')).to.deep.equal({ version: 'v20.20.2', major: '20', minor: '20', patch: '2' });
  });

  it('countByConstructorName skips null entries', () => {
    class Socket {}
    expect([...countByConstructorName([new Socket(), null, new Socket(), Object.create(null), {}])]).to.deep.equal([
      ['Socket', 2],
      ['Object', 1],
    ]);
  });
});
