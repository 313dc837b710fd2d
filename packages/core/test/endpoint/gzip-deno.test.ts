import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { readsGzipMembers } from '../../src/prometheus/endpoint.js';
import { get } from '../helpers/index.js';

/** The body of a GET, as sent. */
const bodyOf = async (url: string, headers: Record<string, string>): Promise<Buffer> => (await get(url, headers)).body;

/** Whether a gzip body is one member: the last trailer's ISIZE is the whole plain length (mod 2^32), only then. */
const oneMember = (gz: Buffer): boolean => gz.readUInt32LE(gz.length - 4) === gunzipSync(gz).length % 2 ** 32;

describe("core: a scrape from Deno gets one gzip member (Deno's fetch decodes only the first of several)", () => {
  let t: Telemetry;
  before(async () => {
    t = startTelemetry({
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: 10_000,
      maxSeriesPerMetric: 10_000,
      prometheus: { port: 0, host: '127.0.0.1' },
    });
    await t.ready();
    // Enough series for several members (about 64 KB of plain text each).
    const h = t.store.histogram('tuist_storage_get_object_size_size_bytes');
    for (let i = 0; i < 2000; i++) h.record(i, { object_key: `projects/acme/app/cache/${i}.zip` });
  });
  after(() => t.shutdown());

  it('User-Agent Deno/…: one gzip stream; other clients: several members, same plain body', async () => {
    const deno = await bodyOf(t.url!, { 'accept-encoding': 'gzip', 'user-agent': 'Deno/2.9.6' });
    const prometheus = await bodyOf(t.url!, { 'accept-encoding': 'gzip', 'user-agent': 'Prometheus/2.42.0' });
    expect(oneMember(deno), 'Deno').to.equal(true);
    expect(oneMember(prometheus), 'Prometheus: members (the check can tell)').to.equal(false);
    expect(gunzipSync(deno).toString()).to.equal(gunzipSync(prometheus).toString());
  });

  it("readsGzipMembers: every client but Deno's fetch", () => {
    expect(readsGzipMembers('Deno/2.9.6')).to.equal(false);
    for (const ua of [undefined, 'Prometheus/2.42.0', 'Bun/1.4.5', 'node', 'curl/8.5.0'])
      expect(readsGzipMembers(ua), String(ua)).to.equal(true);
  });
});
