import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { register } from 'node:module';
import type { FoundInstrumentation } from './load.js';

/**
 * Creates and enables the found instrumentations so that both CommonJS and ES module apps are patched: for ESM,
 * import-in-the-middle's loader hook is registered first (Node's `module.register`), and it is told which modules
 * to wrap as the instrumentations declare them (so no other module pays for the hook). Must run before the app
 * imports the libraries: from an `--import` module. Resolves once the loader acknowledged every module.
 */
export async function enableWithLoaderHook(found: readonly FoundInstrumentation[]): Promise<Instrumentation[]> {
  if (found.length === 0) return [];
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const instrumentations = found.flatMap((f) => f.create() ?? []);
  registerInstrumentations({ instrumentations });
  await waitForAllMessagesAcknowledged();
  return instrumentations;
}
