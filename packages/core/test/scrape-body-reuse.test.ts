import { expect } from 'chai';
import net from 'node:net';
import { parseExposition, scrape, value } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';

// The renderer reuses the memory of a body nobody reads any more (render.ts): these tests fail if a body is handed
// back while a reader still reads it (later scrapes would overwrite the bytes it has not received yet).
const METRIC = 'tuist_storage_get_object_size_size_bytes';
const SERIES = 6000; // about 13 MB: more than loopback's socket buffers hold, so the slow reader's tail stays in Node

/** Sends GET /metrics on a socket that does not read until `drain()` is called; resolves with the body. */
function slowReader(url: string): { drain: () => Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.pause();
  socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return {
    drain: () =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve(text.slice(text.indexOf('\r\n\r\n') + 4));
        });
        socket.on('error', reject);
        socket.resume();
      }),
  };
}

describe('core: scrape bodies are reused only once nobody reads them', () => {
  let t: Telemetry;
  const last = { object_key: `k${SERIES - 1}` };
  before(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: SERIES,
    });
    await t.ready();
    const h = t.store.histogram(METRIC);
    for (let i = 0; i < SERIES; i++) h.record(100, { object_key: `k${i}` });
  });
  after(() => t.shutdown());

  it('a reader that stalls keeps its body intact while later scrapes render (and reuse memory) meanwhile', async () => {
    await scrape(t.url!); // a body exists and is handed back: the next render writes into it
    const slow = slowReader(t.url!);
    await new Promise((r) => setTimeout(r, 300)); // its body is rendered and partly written
    const h = t.store.histogram(METRIC);
    for (let k = 0; k < 3; k++) {
      h.record(100, last); // the last series (at the end of the body, the part still waiting in Node) changes
      expect(value(await scrape(t.url!), `${METRIC}_count`, last)).to.equal(2 + k);
    }
    const body = await slow.drain();
    expect(body.endsWith('\n'), 'whole body').to.equal(true);
    expect(value(parseExposition(body), `${METRIC}_count`, last), 'the stalled body as it was rendered').to.equal(1);
  });

  it('renderPrometheus() and scrapes alternate with the right values (a handed-back body is rewritten whole)', async () => {
    const h = t.store.histogram(METRIC);
    for (let k = 0; k < 3; k++) {
      h.record(100, last);
      const before = value(parseExposition(await t.renderPrometheus()), `${METRIC}_count`, last);
      expect(value(await scrape(t.url!), `${METRIC}_count`, last)).to.equal(before);
    }
  });
});
