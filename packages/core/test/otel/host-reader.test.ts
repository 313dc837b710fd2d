import { expect } from 'chai';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { HostMetricReader } from '../../src/otel/host-reader.js';

/*
 * The reader createMetricReader() hands to the host's MeterProvider, in-process with the stock sdk-metrics
 * MeterProvider (issue 26). NodeSDK itself, in a child process, is in nodesdk.test.ts.
 */

const resource = resourceFromAttributes({ 'service.name': 'host-reader-test' });
const names = (r: Awaited<ReturnType<ReturnType<HostMetricReader['producer']>['collect']>>) =>
  r.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));

function owned() {
  const reader = new HostMetricReader();
  const calls: string[] = [];
  return { reader, calls };
}

describe("core: HostMetricReader, the host MeterProvider's reader (issue 26)", () => {
  it('before a MeterProvider takes it: unbound, and its producer gives an empty collection with the resource', async () => {
    const { reader } = owned();
    expect(reader.isBound).to.equal(false);
    const result = await reader.producer(resource).collect();
    expect(result.resourceMetrics.resource).to.equal(resource);
    expect(result.resourceMetrics.scopeMetrics).to.deep.equal([]);
    expect(result.errors).to.deep.equal([]);
  });

  it("once taken: bound, the whenBound callbacks run once after the host's code, a throwing one harms nothing", async () => {
    const { reader } = owned();
    const ran: string[] = [];
    reader.whenBound(() => ran.push('first'));
    reader.whenBound(() => {
      throw new Error('a callback that throws');
    });
    reader.whenBound(() => ran.push('third'));
    const provider = new MeterProvider({ readers: [reader] });
    try {
      expect(reader.isBound).to.equal(true);
      ran.push('host code after the constructor');
      await Promise.resolve();
      expect(ran).to.deep.equal(['host code after the constructor', 'first', 'third']);
      // The host's instruments are collected through the producer now.
      provider.getMeter('app').createCounter('app.orders').add(3, { kind: 'book' });
      expect(names(await reader.producer(resource).collect())).to.deep.equal(['app.orders']);
      await new Promise((r) => setTimeout(r, 5));
      expect(ran, 'each callback once').to.have.length(3);
    } finally {
      await provider.shutdown();
    }
  });

  it("the host's forceFlush and shutdown reach the telemetry; the last push during shutdown still sees the host's instruments", async () => {
    const { reader, calls } = owned();
    const producer = reader.producer(resource);
    let lastPush: string[] = [];
    reader.attach({
      forceFlush: async () => void calls.push('forceFlush'),
      shutdown: async () => {
        calls.push('shutdown');
        lastPush = names(await producer.collect());
      },
    });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('app').createCounter('app.orders').add(1);
    await provider.forceFlush();
    expect(calls).to.deep.equal(['forceFlush']);
    await provider.shutdown();
    expect(calls).to.deep.equal(['forceFlush', 'shutdown']);
    expect(lastPush).to.deep.equal(['app.orders']);
    // Shut down: the producer answers empty instead of failing the telemetry's push readers.
    const after = await producer.collect();
    expect(after.resourceMetrics.scopeMetrics).to.deep.equal([]);
    expect(after.resourceMetrics.resource).to.equal(resource);
  });

  it('without an owner, flushing and shutting the host down still work', async () => {
    const { reader } = owned();
    const provider = new MeterProvider({ readers: [reader] });
    await provider.forceFlush();
    await provider.shutdown();
    expect(reader.isBound).to.equal(true);
  });
});
