// The Prometheus stand-in of the scrape case, in its own process (Prometheus never runs inside the measured process,
// and reading 20 MB there would add the client's work to the server's event loop). On each `{ url }` message it
// scrapes once over a keep-alive connection, streaming the body, and answers `{ ms, bytes, status }`.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
process.on('message', ({ url }) => {
  const t0 = process.hrtime.bigint();
  http
    .get(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => process.send({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes, status: res.statusCode }));
    })
    .on('error', (err) => process.send({ error: String(err) }));
});
process.on('disconnect', () => process.exit(0));
