import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import module from 'node:module';
import { hostRuntime } from '../runtime/which.js';
import { enableWithoutLoaderHook } from './preload.js';
import type { FoundInstrumentation } from './load.js';

/**
 * Creates and enables the found instrumentations so that both CommonJS and ES module apps are patched: for ESM,
 * import-in-the-middle's loader hook is registered first, and it is told which modules to wrap as the
 * instrumentations declare them (so no other module pays for the hook). Must run before the app imports the
 * libraries: from an `--import` module. Resolves once the loader acknowledged every module.
 *
 * Which hook API: where Node's synchronous in-thread hooks (`module.registerHooks`) can run import-in-the-middle's
 * loader (`supportsSyncHooks()`: Node >= 22.22.3, >= 24.11.1, >= 26), its `register-hooks.mjs` entry is used.
 * That is the only way on Node 26, where `module.register()` is deprecated (DEP0205, a warning on every start).
 * Older lines (Node 20, early 22/24) keep the off-thread `module.register()` loader, which is not deprecated there.
 * Both take the same message channel: on the synchronous path its messages stay in this thread.
 */
export async function enableWithLoaderHook(found: readonly FoundInstrumentation[]): Promise<Instrumentation[]> {
  if (found.length === 0) return [];
  const runtime = hostRuntime();
  if (runtime.name !== 'node') return enableWithoutLoaderHook(found, runtime);
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  // Loaded only where Node has registerHooks: it brings the loader itself (and its parsers) into the app's thread.
  // (`registerHooks` is missing from @types/node 20, the line this builds against.)
  const hasRegisterHooks = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
  const sync = hasRegisterHooks ? await import('import-in-the-middle/register-hooks.mjs') : undefined;
  if (sync?.supportsSyncHooks()) {
    sync.register(registerOptions.data);
  } else {
    module.register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  }
  const instrumentations = found.flatMap((f) => f.create() ?? []);
  registerInstrumentations({ instrumentations });
  await waitForAllMessagesAcknowledged();
  return instrumentations;
}

