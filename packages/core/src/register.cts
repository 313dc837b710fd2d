/**
 * `node --require @tuist-telemetry/core/register app.js` (how `NODE_OPTIONS` preloads are often set): the CommonJS
 * entry of register, which the package's `require` condition selects. It loads the ES module `register.js` with
 * `require` (Node >= 20.19 and >= 22.12 can, register having no top-level await), so a CommonJS app gets the same
 * telemetry and instrumentations as with `--import`, and an ES module app too (the loader hook is registered before
 * its entry loads). Where this Node cannot require an ES module (`--no-experimental-require-module`), it prints one
 * line saying to use `--import` and the app runs without telemetry: a preload never stops the app.
 */
function load(): unknown {
  // Node runs `--require` preloads in its loader thread too: nothing to do there (inInternalThread, hook.ts). It
  // is tested here as well, before `register.js` and its dependencies are loaded into that thread.
  const threads = require('node:worker_threads') as typeof import('node:worker_threads') & {
    isInternalThread?: boolean;
  };
  if (threads.isInternalThread === true || (!threads.isMainThread && threads.parentPort === null)) return {};
  try {
    return require('./register.js');
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const reason =
      code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE'
        ? `this Node cannot load it with --require (${String(code)}); start the app with node --import @tuist-telemetry/core/register instead`
        : `it could not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    process.stderr.write(`error: @tuist-telemetry/core/register: ${reason}; the app runs without telemetry\n`);
    return {};
  }
}

module.exports = load();
