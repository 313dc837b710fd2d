// The Prometheus stand-in of the scrape case, in its own process (Prometheus never runs inside the measured process,
// and reading 20 MB there would add the client's work to the server's event loop). On each `{ url }` message it
// scrapes once over a keep-alive connection, streaming the body, and answers `{ ms, bytes, status }`. With
// `{ url, gzip: true }` it asks for gzip as Prometheus does and decompresses as it reads (timed to the last
// decompressed byte); `bytes` is then what crossed the wire, `decoded` the body's size. `accept` is sent as `Accept`.
import http from 'node:http';
import { createGunzip } from 'node:zlib';

// With `concurrent: N` it sends N requests at once on N connections and answers when all are read (ms: until the last).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const wide = new http.Agent({ keepAlive: true, maxSockets: 64 });
process.on('message', ({ url, gzip, concurrent = 1, accept }) => {
  if (concurrent > 1) {
    const t0 = process.hrtime.bigint();
    let left = concurrent;
    let failed;
    for (let i = 0; i < concurrent; i++) {
      get(
        url,
        { agent: wide },
        (res) => {
          let bytes = 0;
          if (res.statusCode !== 200) failed ??= `HTTP ${res.statusCode}`;
          res.on('data', (chunk) => (bytes += chunk.length));
          res.on('end', () => {
            if (--left === 0) {
              if (failed) process.send({ error: failed });
              else
                process.send({
                  ms: Number(process.hrtime.bigint() - t0) / 1e6,
                  bytes,
                  decoded: bytes,
                  gzip: false,
                  status: 200,
                });
            }
          });
        },
        (err) => process.send({ error: String(err) }),
      );
    }
    return;
  }
  scrapeOnce(url, gzip, accept);
});

// A keep-alive connection the server closes as idle (its keepAliveTimeout) while the next request is being sent fails
// that request with "socket hang up" (ECONNRESET); as Node's documentation advises, a request on a reused socket
// that failed so before any response is retried once, on a new connection.
function get(url, options, onResponse, onError, retried = false) {
  let responded = false;
  const req = http.get(url, options, (res) => {
    responded = true;
    onResponse(res);
  });
  req.on('error', (err) => {
    if (req.reusedSocket && !responded && !retried && err.code === 'ECONNRESET')
      get(url, options, onResponse, onError, true);
    else onError(err);
  });
}

/** One scrape, timed from the request (a retried request: from the first attempt, which failed at once). */
function scrapeOnce(url, gzip, accept) {
  const t0 = process.hrtime.bigint();
  get(
    url,
    { agent, headers: { ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}), ...(accept ? { Accept: accept } : {}) } },
    (res) => {
      let bytes = 0;
      let decoded = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      const zipped = res.headers['content-encoding'] === 'gzip';
      // 64 KB pieces: with Node's default 16 KB the stand-in spent 2-4x the inflate itself on handing out pieces
      // (27-60 ms against 12 ms of CPU for a 22 MB body, measured on Node 20 and 24), a cost of this client that
      // Prometheus's Go reader does not have and that hid the servers' differences.
      const body = zipped ? res.pipe(createGunzip({ chunkSize: 64 * 1024 })) : res;
      if (zipped) body.on('data', (chunk) => (decoded += chunk.length));
      body.on('end', () =>
        process.send({
          ms: Number(process.hrtime.bigint() - t0) / 1e6,
          bytes,
          decoded: zipped ? decoded : bytes,
          gzip: zipped,
          status: res.statusCode,
        }),
      );
      body.on('error', (err) => process.send({ error: String(err) }));
    },
    (err) => process.send({ error: String(err) }),
  );
}
process.on('disconnect', () => process.exit(0));
