import type { Instrumentation } from '@opentelemetry/instrumentation';
import { logger } from '../diag/index.js';
import { KNOWN_INSTRUMENTATIONS, STOCK_INSTRUMENTATIONS, type InstrumentationName } from './known.js';
import { appDirectories, findInstrumentation, type FoundInstrumentation } from './load.js';
import { selectInstrumentations } from './select.js';

export { INSTRUMENTATION_NAMES, type InstrumentationName } from './known.js';

const log = logger('instrumentations');

export interface TuistInstrumentationsOptions {
  /** The environment to read the selection from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folders to resolve the app's packages from; default the entry script's folder, then the working directory. */
  appDirectories?: readonly string[];
}

/**
 * The Tuist instrumentations installed in the app (`pg` from @tuist-telemetry/db, `undici` and `http` from
 * @tuist-telemetry/http, `aws-sdk` from @tuist-telemetry/storage), created (and so enabled, as every OpenTelemetry
 * instrumentation is by default), for
 * `new NodeSDK({ instrumentations: [...tuistInstrumentations()] })` or `registerInstrumentations`. Selection follows
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` (short names). Core cannot import
 * those packages (they depend on core), so they are found at run time from the app; one that is not installed,
 * or whose library is not, is left out quietly.
 */
export function tuistInstrumentations(options: TuistInstrumentationsOptions = {}): Instrumentation[] {
  return findInstrumentations(options).flatMap((f) => f.create() ?? []);
}

/**
 * @internal the selected, installed instrumentations, not created yet (register sets up the ESM hook first);
 * with `stock`, OpenTelemetry's own instrumentations of the same libraries too (register does so when traces are on).
 */
export function findInstrumentations(
  options: TuistInstrumentationsOptions & { stock?: boolean } = {},
): FoundInstrumentation[] {
  const selected = selectInstrumentations(options.env ?? process.env, log);
  const dirs = options.appDirectories ?? appDirectories();
  const out: FoundInstrumentation[] = [];
  for (const known of options.stock ? [...KNOWN_INSTRUMENTATIONS, ...STOCK_INSTRUMENTATIONS] : KNOWN_INSTRUMENTATIONS) {
    if (!selected.has(known.name as InstrumentationName)) continue;
    const f = findInstrumentation(known, dirs, log);
    if (f) out.push(f);
  }
  return out;
}
