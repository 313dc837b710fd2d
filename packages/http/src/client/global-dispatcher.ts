import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { hostRuntime, logger } from '@tuist-telemetry/core/internal';
import { createInstrumentedAgent, splitOptions } from './agent.js';
import { instrumentFetch } from './fetch.js';
import { reportInternalError } from './report.js';
import type { InstrumentedAgentOptions, Uninstall } from './types.js';

const log = logger('http');

/**
 * Installs an instrumented Agent as undici's global dispatcher. undici's `setGlobalDispatcher` also sets the
 * dispatcher of Node's built-in `fetch`, so `fetch()` and undici calls without a `dispatcher` are measured.
 * On Bun and Deno, whose `fetch` is not undici, the runtime's `fetch` is wrapped too (`instrumentFetch`); on Bun,
 * whose `undici` is not npm's, only that.
 * Returns a function that restores the previous global dispatcher (and `fetch`) and closes the instrumented agent.
 */
export function instrumentUndici(options?: InstrumentedAgentOptions): Uninstall {
  const { telemetry, ignore } = splitOptions(options, 'instrumentUndici');
  const runtime = hostRuntime().name;
  // Bun answers `import 'undici'` with a built-in stand-in (its Agent cannot dispatch or close, and Bun's fetch
  // never asks it): only the fetch wrapper there.
  if (runtime === 'bun') return instrumentFetch({ telemetry, ignore });
  const agent = createInstrumentedAgent(options);
  const previous = getGlobalDispatcher();
  setGlobalDispatcher(agent);
  const restoreFetch = runtime === 'node' ? undefined : instrumentFetch({ telemetry, ignore });
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    restoreFetch?.();
    if (getGlobalDispatcher() !== agent) {
      // Someone installed another dispatcher on top: replacing it would undo their change.
      log.warn('instrumentUndici: the global dispatcher was replaced after instrumentUndici(); it was left as it is');
      return;
    }
    setGlobalDispatcher(previous);
    agent.close().catch((err: unknown) => reportInternalError('close', err));
  };
}
