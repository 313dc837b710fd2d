// The app traffic of the load case (8), in its own process: an open-loop client that sends `rps` GET requests per
// second to the measured process's app endpoint over keep-alive connections (at most 64 at once), whatever the
// server's state, so a blocked event loop shows as queued requests. Messages: `{ start: url, rps }` starts the
// traffic and answers `{ started: true }` after the first response; `{ mark: true }` starts a window (answers
// `{ marked: true }`); `{ stats: true }` answers the window's `{ count, p50, p99, max }` latencies in ms of the
// requests that completed in it.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let latencies = [];
let failed = false;
let timer;

function request(url) {
  const t0 = process.hrtime.bigint();
  http
    .get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.statusCode !== 200 && !failed) {
          failed = true;
          process.send({ error: `app answered HTTP ${res.statusCode}` });
        }
      });
    })
    .on('error', (err) => {
      if (!failed && timer) {
        failed = true;
        process.send({ error: String(err) });
      }
    });
}

const pct = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;

process.on('message', (m) => {
  if (m.start) {
    // Ticks of 5 ms; each sends what the elapsed time owes, so a late tick catches up instead of lowering the rate.
    const t0 = process.hrtime.bigint();
    let sent = 0;
    let announced = false;
    timer = setInterval(() => {
      const owed = Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * m.rps) - sent;
      for (let i = 0; i < owed; i++) request(m.start);
      sent += Math.max(0, owed);
      if (!announced && latencies.length > 0) {
        announced = true;
        process.send({ started: true });
      }
    }, 5);
  } else if (m.mark) {
    latencies = [];
    process.send({ marked: true });
  } else if (m.stats) {
    const s = Float64Array.from(latencies).sort();
    process.send({ count: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99), max: s.length ? s[s.length - 1] : NaN });
  }
});
process.on('disconnect', () => {
  clearInterval(timer);
  timer = undefined;
  process.exit(0);
});
