import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { remoteScraper } from '../src/series.js';

describe('bench scraper (the Prometheus stand-in of the scrape, memory and load cases)', function () {
  this.timeout(30_000);

  it('retries once, on a new connection, a scrape whose reused keep-alive connection the server closed', async () => {
    // The server drops every second request on a connection without answering: what a server closing an idle
    // keep-alive connection looks like to a client that sent its next request at that moment.
    let connections = 0;
    const server = http.createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      if (socket.served === 2) socket.destroy();
      else res.writeHead(200, { 'Content-Type': 'text/plain' }).end('up 1\n');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const scraper = remoteScraper(url);
    // The concurrent case's scrapes (here 2 at once on 2 connections) are retried alike.
    const wide = remoteScraper(url, false, 2);
    try {
      expect((await scraper.scrape()).bytes).to.equal(5);
      expect((await scraper.scrape()).bytes).to.equal(5);
      expect(connections).to.equal(2);
      expect((await wide.scrape()).bytes).to.equal(5);
      expect((await wide.scrape()).bytes).to.equal(5);
      expect(connections).to.equal(6);
    } finally {
      scraper.close();
      wide.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
