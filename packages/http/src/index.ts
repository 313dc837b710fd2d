export { createInstrumentedAgent } from './client/agent.js';
export { instrumentUndici } from './client/global-dispatcher.js';
export { instrumentFetch } from './client/fetch.js';
export { TuistUndiciInstrumentation } from './client/instrumentation.js';
export { instrumentHttpServer } from './server/http-server.js';
export { TuistHttpServerInstrumentation } from './server/instrumentation.js';
export type {
  InstrumentedAgentOptions,
  InstrumentationOptions,
  IgnoreRequest,
  Uninstall,
  TuistUndiciInstrumentationConfig,
} from './client/types.js';
export type { InstrumentHttpServerOptions, TuistHttpServerInstrumentationConfig } from './server/types.js';
