import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import module, { createRequire } from 'node:module';
import threads from 'node:worker_threads';
import { hostRuntime, type HostRuntime } from '../runtime/which.js';
import { enableWithoutLoaderHook } from './preload.js';
import type { FoundInstrumentation } from './load.js';

const require = createRequire(import.meta.url);

/**
 * Whether this code runs in one of Node's internal threads, such as the loader thread of `module.register()` or
 * `--experimental-loader`: Node runs `--require` preloads there too, and register must do nothing there (it would
 * start a second telemetry, and a `module.register()` from the loader thread hangs or ends the process).
 * `isInternalThread` says so from Node 22.14; before, an internal thread is the worker without a `parentPort`
 * (every worker the app creates has one). Same test in register.cts.
 */
export function inInternalThread(t: ThreadFacts = threads): boolean {
  return t.isInternalThread === true || (!t.isMainThread && t.parentPort === null);
}

/** What inInternalThread reads of `node:worker_threads` (`isInternalThread` is missing from @types/node 20). */
export interface ThreadFacts {
  readonly isInternalThread?: boolean;
  readonly isMainThread: boolean;
  readonly parentPort: unknown;
}

/**
 * Adds the names of the modules the instrumentations hook to `include` (import-in-the-middle's list of modules to
 * wrap), each once. Apart from `enableWithLoaderHook` so that it runs in-process in the tests: the rest of the
 * loader set-up runs only in the zero-code start's processes.
 */
export function addHookedModules(include: string[], instrumentations: readonly Instrumentation[]): void {
  for (const i of instrumentations) {
    // Every InstrumentationBase has it (the interface does not declare it); the names are those it hooks.
    const modules = (i as { getModuleDefinitions?: () => readonly { name: string }[] }).getModuleDefinitions?.() ?? [];
    for (const m of modules) if (!include.includes(m.name)) include.push(m.name);
  }
}

type SyncHooks = typeof import('import-in-the-middle/register-hooks.mjs');
type RegisterOptions = ReturnType<typeof createAddHookMessageChannel<{ include: string[] }>>['registerOptions'];

/**
 * Where enableWithLoaderHook reaches outside of itself. The real ones (loaderHookParts) by default; the tests hand
 * in their own to see in-process which hook it registers with what (the real set-up runs only in the zero-code
 * start's processes, register-instrumentations.test.ts).
 */
export interface LoaderHookParts {
  /** The runtime this process runs on (hostRuntime). */
  runtime(): HostRuntime;
  /** Bun's and Deno's way, which have no loader hooks (enableWithoutLoaderHook). */
  withoutLoaderHook(found: readonly FoundInstrumentation[], runtime: HostRuntime): Instrumentation[];
  /** import-in-the-middle's createAddHookMessageChannel: the options for its loader, whose `include` is filled in. */
  channel(): { registerOptions: RegisterOptions };
  /** OpenTelemetry's registerInstrumentations. */
  enable(options: { instrumentations: Instrumentation[] }): unknown;
  /** import-in-the-middle's synchronous hooks where this Node has `module.registerHooks`, else undefined. */
  syncHooks(): Pick<SyncHooks, 'register' | 'supportsSyncHooks'> | undefined;
  /** Node's `module.register` (the off-thread loader). */
  register(specifier: string, parentURL: string, options: RegisterOptions): void;
}

export const loaderHookParts: LoaderHookParts = {
  runtime: hostRuntime,
  withoutLoaderHook: enableWithoutLoaderHook,
  channel: createAddHookMessageChannel,
  enable: registerInstrumentations,
  syncHooks: () => syncHooksOf(module),
  register: module.register,
};

/**
 * import-in-the-middle's `register-hooks.mjs`, loaded only where `nodeModule` (`node:module`) has `registerHooks`:
 * it brings the loader itself (and its parsers) into the app's thread. (`registerHooks` is missing from
 * @types/node 20, the line this builds against.) A require of an ES module without top-level await, which every
 * supported line can do.
 */
export function syncHooksOf(
  nodeModule: object,
  load = (): SyncHooks => require('import-in-the-middle/register-hooks.mjs') as SyncHooks,
): SyncHooks | undefined {
  return typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function' ? load() : undefined;
}

/**
 * Creates and enables the found instrumentations so that both CommonJS and ES module apps are patched: for ESM,
 * import-in-the-middle's loader hook is registered with the modules to wrap (the ones the instrumentations declare,
 * so no other module pays for the hook). Must run before the app imports the libraries: from a preload
 * (`--import` or `--require`).
 *
 * Synchronous, with no top-level await anywhere on the way, so `--require` can load register (require of an ES
 * module fails on a graph with top-level await): the modules to wrap are handed to the loader in its initial data,
 * which Node delivers before `module.register()` returns (the loader thread runs `initialize` first), instead of
 * over the message channel that would have to be awaited. The channel stays open for instrumentations the app
 * enables later.
 *
 * Which hook API: where Node's synchronous in-thread hooks (`module.registerHooks`) can run import-in-the-middle's
 * loader (`supportsSyncHooks()`: Node >= 22.22.3, >= 24.11.1, >= 26), its `register-hooks.mjs` entry is used.
 * That is the only way on Node 26, where `module.register()` is deprecated (DEP0205, a warning on every start).
 * Older lines (Node 20, early 22/24) keep the off-thread `module.register()` loader, which is not deprecated there.
 */
export function enableWithLoaderHook(
  found: readonly FoundInstrumentation[],
  parts: LoaderHookParts = loaderHookParts,
): Instrumentation[] {
  if (found.length === 0) return [];
  const runtime = parts.runtime();
  if (runtime.name !== 'node') return parts.withoutLoaderHook(found, runtime);
  const { registerOptions } = parts.channel();
  const instrumentations = found.flatMap((f) => f.create() ?? []);
  parts.enable({ instrumentations });
  addHookedModules(registerOptions.data!.include, instrumentations);
  const sync = parts.syncHooks();
  if (sync?.supportsSyncHooks()) {
    sync.register(registerOptions.data);
  } else {
    parts.register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  }
  return instrumentations;
}
