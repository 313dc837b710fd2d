export { createInstrumentedAgent } from './agent.js';
export { instrumentUndici } from './global.js';
export { instrumentFetch } from './fetch.js';
export { TuistUndiciInstrumentation } from './instrumentation.js';
export { instrumentHttpServer, UNMATCHED_ROUTE, ABORTED_STATUS } from './server/http-server.js';
export { TuistHttpServerInstrumentation } from './server/instrumentation.js';
export {
  methodLabel,
  statusLabel,
  poolSizeLabel,
  KNOWN_METHODS,
  OTHER_METHOD,
  ERROR_STATUS,
  UNLIMITED,
} from './utils.js';
export type {
  InstrumentedAgentOptions,
  InstrumentationOptions,
  IgnoreRequest,
  Uninstall,
  TuistUndiciInstrumentationConfig,
  InstrumentHttpServerOptions,
  TuistHttpServerInstrumentationConfig,
} from './types.js';
