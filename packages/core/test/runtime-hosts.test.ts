import { expect } from 'chai';
import { startTelemetry } from '@tuist-telemetry/core';
import {
  catalog,
  HIGH_CARDINALITY_LABELS,
  logger,
  MetricStore,
  startRuntimeMetrics,
  RateLimitedLogger,
} from '@tuist-telemetry/core/internal';
import { parseExposition, samples, scrape, type Exposition } from '@tuist-telemetry/testing';
import { storeTextExposition } from '../src/prometheus/serialize.js';
import { RUNTIME_GAPS } from '../src/runtime/index.js';
import { hostRuntime, type HostRuntime } from '../src/runtime/which.js';
import { esmEntry } from '../src/instrumentations/preload.js';

const newStore = (): MetricStore =>
  new MetricStore(catalog, {
    naming: 'docs',
    highCardinality: new Set(HIGH_CARDINALITY_LABELS),
    enabledHighCardinality: new Set(),
    maxLabelValues: 1000,
    warn: new RateLimitedLogger(logger('test')),
  });

/** The store's exposition with the runtime metrics of `runtime` started (this process's own APIs answer). */
async function exposition(runtime: HostRuntime): Promise<Exposition> {
  const store = newStore();
  const stop = startRuntimeMetrics(store, runtime);
  try {
    store.runCollectCallbacks();
    return parseExposition((await storeTextExposition(store)).toString('utf8'));
  } finally {
    stop();
  }
}

const names = (exp: Exposition): string[] =>
  [...exp.keys()].filter((n) => samples(exp, n).length + samples(exp, `${n}_count`).length > 0);

describe('core: runtime metrics say which runtime they measure (Node, Bun, Deno)', () => {
  it('hostRuntime tells Bun and Deno from Node by process.versions, not by their Node compatibility version', () => {
    expect(hostRuntime({ node: '26.3.0', bun: '1.4.5' })).to.deep.equal({ name: 'bun', version: '1.4.5' });
    expect(hostRuntime({ node: '26.3.0', deno: '2.9.6', v8: '15.0' })).to.deep.equal({
      name: 'deno',
      version: '2.9.6',
    });
    expect(hostRuntime({ node: '20.20.2', v8: '11.3' })).to.deep.equal({ name: 'node', version: '20.20.2' });
    expect(hostRuntime()).to.deep.equal({ name: 'node', version: process.versions.node });
  });

  it("tuist_runtime_info{runtime, version} is served on Node next to prom-client's nodejs_version_info", async () => {
    const t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, env: {}, setGlobalMeterProvider: false });
    try {
      await t.ready();
      const exp = await scrape(t.url!);
      expect(samples(exp, 'tuist_runtime_info').map((s) => [s.labels, s.value])).to.deep.equal([
        [{ runtime: 'node', version: process.versions.node }, 1],
      ]);
      expect(samples(exp, 'nodejs_version_info')[0]!.labels.version).to.equal(process.version);
    } finally {
      await t.shutdown();
    }
  });

  it('on Bun the metrics its APIs answer with constants are left out, not served as 0', async () => {
    const exp = await exposition({ name: 'bun', version: '1.4.5' });
    expect(samples(exp, 'tuist_runtime_info').map((s) => s.labels)).to.deep.equal([
      { runtime: 'bun', version: '1.4.5' },
    ]);
    const served = names(exp);
    for (const gone of [
      'nodejs_eventloop_utilization_ratio',
      'nodejs_active_handles_total',
      'nodejs_active_resources_total',
      'nodejs_active_requests_total',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_active_handles',
    ]) {
      expect(served, gone).to.not.include(gone);
    }
    for (const kept of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_version_info',
    ]) {
      expect(served, kept).to.include(kept);
    }
  });

  it('on Deno only the event-loop utilisation is left out', async () => {
    const exp = await exposition({ name: 'deno', version: '2.9.6' });
    expect(samples(exp, 'tuist_runtime_info').map((s) => s.labels)).to.deep.equal([
      { runtime: 'deno', version: '2.9.6' },
    ]);
    const served = names(exp);
    expect(served).to.not.include('nodejs_eventloop_utilization_ratio');
    for (const kept of [
      'nodejs_active_handles_total',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(served, kept).to.include(kept);
  });

  it('on Node nothing is left out', async () => {
    expect(RUNTIME_GAPS.node).to.deep.equal([]);
    const served = names(await exposition({ name: 'node', version: process.versions.node }));
    for (const kept of [
      'nodejs_eventloop_utilization_ratio',
      'nodejs_active_handles_total',
      'nodejs_heap_space_size_used_bytes',
    ])
      expect(served, kept).to.include(kept);
  });

  it("register on Bun and Deno patches the ES module build the runtime's import resolves to (esmEntry)", () => {
    const bun: HostRuntime = { name: 'bun', version: '1.4.5' };
    const deno: HostRuntime = { name: 'deno', version: '2.9.6' };
    // pg 8: an exports map with import and require.
    const pg = {
      exports: {
        '.': { import: './esm/index.mjs', require: './lib/index.js', default: './lib/index.js' },
        './package.json': './package.json',
      },
    };
    expect(esmEntry(pg, bun)).to.equal('./esm/index.mjs');
    expect(esmEntry(pg, deno)).to.equal('./esm/index.mjs');
    // @aws-sdk/client-s3 3.x: main and module, no exports map: Bun imports `module`, Deno (like Node) `main`.
    const s3 = { main: './dist-cjs/index.js', module: './dist-es/index.js' };
    expect(esmEntry(s3, bun)).to.equal('./dist-es/index.js');
    expect(esmEntry(s3, deno)).to.equal(undefined);
    // Nested conditions, a runtime's own condition first.
    expect(esmEntry({ exports: { import: { types: './x.d.ts', default: './x.mjs' } } }, deno)).to.equal('./x.mjs');
    expect(esmEntry({ exports: { bun: './bun.js', import: './x.mjs' } }, bun)).to.equal('./bun.js');
    expect(esmEntry({ exports: './only.js' }, bun), 'one entry for both: the require build is it').to.equal(undefined);
    expect(
      esmEntry({ exports: { '.': { require: './c.js' } }, module: './m.js' }, bun),
      'an exports map wins over module',
    ).to.equal(undefined);
  });
});
