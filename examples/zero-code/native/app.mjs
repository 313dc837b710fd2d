// The runtime's own server, instrumented with the runtime's preload flag alone (README "Bun and Deno"):
//   bun --preload @tuist-telemetry/core/register native/app.mjs
//   deno run -A --preload npm:@tuist-telemetry/core/register native/app.mjs
// Bun.serve's `routes` give the route templates; the `fetch` handler (and Deno.serve's) is `unmatched`.
let url;
let stop;
if (globalThis.Bun) {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    routes: {
      '/builds/:id': (req) => new Response(`build ${req.params.id}`),
      '/boom': () => {
        throw new Error('boom (expected: a handler that throws)');
      },
      '/projects/:handle': {
        GET: (req) => new Response(`project ${req.params.handle}`),
        POST: async () => new Response('created', { status: 201 }),
      },
    },
    fetch: () => new Response('not found', { status: 404 }),
  });
  url = `http://127.0.0.1:${server.port}`;
  stop = () => server.stop(true);
} else {
  const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === '/boom') throw new Error('boom (expected: a handler that throws)');
    return new Response(path, { status: path.startsWith('/builds/') ? 200 : 404 });
  });
  url = `http://127.0.0.1:${server.addr.port}`;
  stop = () => server.shutdown();
}
for (const [path, method] of [
  ['/builds/1', 'GET'],
  ['/builds/2', 'GET'],
  ['/projects/tuist', 'GET'],
  ['/projects/tuist', 'POST'],
  ['/nothing', 'GET'],
  ['/boom', 'GET'],
]) {
  await (await fetch(url + path, { method })).text();
}
console.log('READY ' + JSON.stringify({ url }));
process.on('SIGTERM', async () => {
  await stop();
  process.exit(0);
});
