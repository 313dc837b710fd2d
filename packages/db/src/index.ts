export { instrumentPgPool } from './instrument.js';
export { TuistPgInstrumentation } from './instrumentation.js';
export type { InstrumentPgPoolOptions, PgPool, TuistPgInstrumentationConfig } from './types.js';
