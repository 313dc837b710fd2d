export { instrumentPgPool } from './instrument.js';
export type { InstrumentPgPoolOptions, PgPool } from './types.js';
