import type { InstrumentationName } from '../settings/lists.js';

/** The Tuist instrumentations, by the short names `OTEL_NODE_ENABLED_INSTRUMENTATIONS` takes (the settings table's). */
export { INSTRUMENTATION_NAMES, type InstrumentationName } from '../settings/lists.js';

export interface KnownInstrumentation {
  name: InstrumentationName;
  /** The SDK package that exports the class (a sibling of core: core cannot import it, so it is found at run time). */
  package: string;
  /** The exported `InstrumentationBase` subclass (no-argument constructor). */
  exportName: string;
  /** The library it patches; when it is not installed the instrumentation is skipped. Absent for Node built-ins. */
  library?: string;
}

export const KNOWN_INSTRUMENTATIONS: readonly KnownInstrumentation[] = [
  { name: 'pg', package: '@tuist-telemetry/db', exportName: 'TuistPgInstrumentation', library: 'pg' },
  // fetch and node:http are built in; the npm undici (when the app has it) is covered through the global dispatcher.
  { name: 'undici', package: '@tuist-telemetry/http', exportName: 'TuistUndiciInstrumentation' },
  {
    name: 'aws-sdk',
    package: '@tuist-telemetry/storage',
    exportName: 'TuistS3Instrumentation',
    library: '@aws-sdk/client-s3',
  },
  { name: 'http', package: '@tuist-telemetry/http', exportName: 'TuistHttpServerInstrumentation' },
];

/**
 * OpenTelemetry's own instrumentations of the same libraries. With traces on (`OTEL_TRACES_EXPORTER`), register
 * enables those installed in the app too, so requests and queries produce spans (and carry trace context) with no
 * code; the same short names select them.
 */
export const STOCK_INSTRUMENTATIONS: readonly KnownInstrumentation[] = [
  { name: 'pg', package: '@opentelemetry/instrumentation-pg', exportName: 'PgInstrumentation', library: 'pg' },
  { name: 'undici', package: '@opentelemetry/instrumentation-undici', exportName: 'UndiciInstrumentation' },
  { name: 'http', package: '@opentelemetry/instrumentation-http', exportName: 'HttpInstrumentation' },
];
