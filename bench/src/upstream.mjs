// The local keep-alive HTTP server of the undici case, in its own process so that it does not share the client's
// event loop. Prints its port; exits when its stdin closes (the parent went away).
import http from 'node:http';

const body = JSON.stringify({ ok: true, artifact: 'cache/tuist/ios-app/builds/artifact.zip' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body),
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
// The parent went away before it read the port (a stopped bench): nothing to serve.
process.stdout.on('error', () => process.exit(0));
