import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { acceptsGzip, MetricsEndpoint, type EndpointOptions } from '../../src/prometheus/endpoint.js';
import { LOCAL_ENDPOINT, within } from '../helpers/index.js';

/**
 * What MetricsEndpoint itself answers (401, 500, 503 bodies), when it lets go of a rendered body, what its timers
 * count, how it closes, and how it reads `Accept-Encoding` parameters (issue 26: survivors of the endpoint's
 * mutation shard). The endpoint is built directly, with a render function the test controls.
 */

const BODY = Buffer.from('# HELP x a metric\n# TYPE x counter\nx 1\n');
/** Far larger than the loopback socket buffers: a reader that does not read stalls the write. */
const BIG = Buffer.alloc(32 * 1024 * 1024, 'x');

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`still not: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(opts: Partial<EndpointOptions>): Promise<{ e: MetricsEndpoint; port: number }> {
  const e = new MetricsEndpoint({
    ...LOCAL_ENDPOINT,
    render: async () => BODY,
    onRenderError: () => {},
    ...opts,
  });
  return { e, port: (await e.listening).port };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: net.Socket;
}

function get(port: number, options: http.RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false, ...options }, (res) => {
        let body = '';
        const socket = res.socket;
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, socket }));
      })
      .on('error', reject);
  });
}

describe('core: what the endpoint answers besides the body (issue 26)', () => {
  it('401, 500 and 503 are plain text that says what happened', async () => {
    const auth = await start({ auth: { bearerToken: 'tok' } });
    let gate!: () => void;
    const busy = await start({
      maxConcurrentScrapes: 1,
      render: () => new Promise<Buffer>((r) => (gate = () => r(BODY))),
    });
    const failing = await start({ render: () => Promise.reject(new Error('broken store')) });
    try {
      const r401 = await get(auth.port);
      expect([r401.status, r401.headers['content-type'], r401.body]).to.deep.equal([
        401,
        'text/plain; charset=utf-8',
        'Unauthorized\n',
      ]);
      const r500 = await get(failing.port);
      expect([r500.status, r500.headers['content-type'], r500.body]).to.deep.equal([
        500,
        'text/plain; charset=utf-8',
        'Error while collecting metrics\n',
      ]);
      const first = get(busy.port);
      await until(() => busy.e.scrapesInFlight === 1, 'the first scrape in flight');
      const r503 = await get(busy.port);
      expect([r503.status, r503.headers['content-type'], r503.headers['retry-after'], r503.body]).to.deep.equal([
        503,
        'text/plain; charset=utf-8',
        '1',
        'Too many scrapes in progress; retry later\n',
      ]);
      gate();
      expect((await first).body).to.equal(BODY.toString());
    } finally {
      await Promise.all([auth.e.close(), busy.e.close(), failing.e.close()]);
    }
  });

  it("marks its server as the SDK's own, where instrumentations see it (diagnostics_channel)", async () => {
    const servers: unknown[] = [];
    const seen = (m: unknown) => servers.push((m as { server: unknown }).server);
    diagnosticsChannel.subscribe('http.server.request.start', seen);
    const { e, port } = await start({});
    try {
      await get(port);
    } finally {
      diagnosticsChannel.unsubscribe('http.server.request.start', seen);
      await e.close();
    }
    expect(servers).to.have.length(1);
    const marker = (servers[0] as Record<symbol, unknown>)[Symbol.for('@tuist-telemetry/core.internalServer')];
    expect(marker).to.equal(true);
  });

  it('reads Accept-Encoding parameters by name: only q weighs, a bad or zero weight refuses, * counts', () => {
    expect(acceptsGzip('gzip;xq=0')).to.equal(true);
    expect(acceptsGzip('gzip;level=1')).to.equal(true);
    expect(acceptsGzip('gzip;q =0')).to.equal(false);
    expect(acceptsGzip('gzip;q=0.0')).to.equal(false);
    expect(acceptsGzip('gzip;q=0.000')).to.equal(false);
    expect(acceptsGzip('*')).to.equal(true);
    expect(acceptsGzip('identity, *;q=0.5')).to.equal(true);
    expect(acceptsGzip('*;q=0')).to.equal(false);
  });
});

describe('core: the endpoint lets go of a rendered body once its response is closed (issue 26)', () => {
  it('a written response releases its body once, the same buffer', async () => {
    const released: Buffer[] = [];
    const { e, port } = await start({ release: (b) => released.push(b) });
    try {
      expect((await get(port)).body).to.equal(BODY.toString());
      await until(() => released.length > 0, 'released');
      await new Promise((r) => setTimeout(r, 50));
      expect(released).to.have.length(1);
      expect(released[0]).to.equal(BODY);
    } finally {
      await e.close();
    }
  });

  it('a body still being written is not released; it is once the reader goes away', async () => {
    const released: Buffer[] = [];
    const { e, port } = await start({ render: async () => BIG, release: (b) => released.push(b) });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    try {
      let head = '';
      const gotHead = new Promise<void>((resolve) =>
        socket.on('data', (c: Buffer) => {
          head += c.subarray(0, 64).toString('latin1');
          socket.pause();
          resolve();
        }),
      );
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      await gotHead;
      expect(head.startsWith('HTTP/1.1 200')).to.equal(true);
      expect(released, 'released while the response is being written').to.have.length(0);
      socket.destroy();
      await until(() => released.length === 1, 'released after the reader left');
      expect(released[0]).to.equal(BIG);
    } finally {
      socket.destroy();
      await e.close();
    }
  });

  it('a body rendered after its scraper left is released at once', async () => {
    const released: Buffer[] = [];
    let gate!: () => void;
    const { e, port } = await start({
      render: () => new Promise<Buffer>((r) => (gate = () => r(BODY))),
      release: (b) => released.push(b),
    });
    try {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(() => e.scrapesInFlight === 1, 'in flight');
      socket.destroy();
      await until(() => e.scrapesInFlight === 0, 'the response closed');
      gate();
      await until(() => released.length === 1, 'released');
      expect(released[0]).to.equal(BODY);
    } finally {
      await e.close();
    }
  });
});

describe('core: the endpoint counts only scrapes it cut off, and closes whole (issue 26)', () => {
  it('a kept-alive connection closed for idleness after its scrape was written is no cut-off scrape', async () => {
    // The write deadline (200 ms) passes before the server closes the idle connection (400 ms without traffic).
    const { e, port } = await start({ writeTimeoutMs: 200, idleTimeoutMs: 400 });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    try {
      let got = '';
      const answered = new Promise<void>((resolve) =>
        socket.on('data', (c: Buffer) => {
          got += c.toString('latin1');
          if (got.endsWith(BODY.toString())) resolve();
        }),
      );
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      await within(answered, 'the scrape on the kept-alive connection');
      expect(got.startsWith('HTTP/1.1 200')).to.equal(true);
      await within(closed, 'the close of the idle connection');
      expect(e.scrapesCutOff).to.equal(0);
    } finally {
      socket.destroy();
      await e.close();
    }
  });

  it('close() ends a response still being written, and the port then refuses connections', async () => {
    const { e, port } = await start({ render: async () => BIG });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const gotData = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await gotData;
    socket.pause();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('close() waited for the stalled reader')), 10_000);
    });
    try {
      await Promise.race([e.close(), late]);
      socket.resume();
      await Promise.race([closed, late]);
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).to.equal('ECONNREFUSED');
  });
});
