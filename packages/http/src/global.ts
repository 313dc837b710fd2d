import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { logger } from '@tuist-telemetry/core/internal';
import { createInstrumentedAgent, splitOptions } from './agent.js';
import { reportInternalError } from './report.js';
import type { InstrumentedAgentOptions, Uninstall } from './types.js';

const log = logger('http');

/**
 * Installs an instrumented Agent as undici's global dispatcher. undici's `setGlobalDispatcher` also sets the
 * dispatcher of Node's built-in `fetch`, so `fetch()` and undici calls without a `dispatcher` are measured.
 * Returns a function that restores the previous global dispatcher and closes the instrumented one.
 */
export function instrumentUndici(options?: InstrumentedAgentOptions): Uninstall {
  splitOptions(options, 'instrumentUndici');
  const agent = createInstrumentedAgent(options);
  const previous = getGlobalDispatcher();
  setGlobalDispatcher(agent);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    if (getGlobalDispatcher() !== agent) {
      // Someone installed another dispatcher on top: replacing it would undo their change.
      log.warn('instrumentUndici: the global dispatcher was replaced after instrumentUndici(); it was left as it is');
      return;
    }
    setGlobalDispatcher(previous);
    agent.close().catch((err: unknown) => reportInternalError('close', err));
  };
}
