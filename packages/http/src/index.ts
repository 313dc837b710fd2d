export { createInstrumentedAgent } from './agent.js';
export { instrumentUndici } from './global.js';
export { instrumentFetch } from './fetch.js';
export { TuistUndiciInstrumentation } from './instrumentation.js';
export { instrumentHttpServer } from './server/http-server.js';
export { TuistHttpServerInstrumentation } from './server/instrumentation.js';
export type {
  InstrumentedAgentOptions,
  InstrumentationOptions,
  IgnoreRequest,
  Uninstall,
  TuistUndiciInstrumentationConfig,
  InstrumentHttpServerOptions,
  TuistHttpServerInstrumentationConfig,
} from './types.js';
