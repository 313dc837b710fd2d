import type { DiagLogger } from '@opentelemetry/api';
import {
  registerInstrumentations,
  type Instrumentation,
  type InstrumentationModuleDefinition,
} from '@opentelemetry/instrumentation';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { logger } from '../diag/index.js';
import type { HostRuntime } from '../runtime/which.js';
import { appDirectories, requireFrom, type FoundInstrumentation } from './load.js';

const log = logger('instrumentations');
const require = createRequire(import.meta.url);

/**
 * Bun and Deno (`bun --preload`, `deno run --preload`): no loader hook. Bun's `module.register` is a stub that never
 * runs the loader, so waiting for its acknowledgements would hold the preload, and with it the app, forever; Deno has
 * no `module.register` at all. Instead, the libraries the instrumentations patch are loaded here, before the app
 * runs, in both the forms the app may get: the CommonJS build through `require`, and the ES module build the
 * runtime's `import` resolves to (`exports` `import` condition; on Bun also the `module` field), and each is
 * patched in place. The instrumentations patch shared prototypes (pg-pool's `Pool`, `S3Client`), so the app's own
 * `import` or `require` of the same files gets the patched classes. require-in-the-middle stays registered for
 * libraries the app requires later. Never throws: a library that cannot be loaded is left unpatched (debug message).
 */
export function enableWithoutLoaderHook(
  found: readonly FoundInstrumentation[],
  runtime: HostRuntime,
): Instrumentation[] {
  const instrumentations = found.flatMap((f) => f.create() ?? []);
  registerInstrumentations({ instrumentations });
  const dirs = appDirectories();
  for (const instrumentation of instrumentations) {
    const withModules = instrumentation as Partial<{ getModuleDefinitions(): Def[] }>;
    for (const definition of withModules.getModuleDefinitions?.() ?? []) {
      patchNow(definition, dirs, runtime, log);
    }
  }
  return instrumentations;
}

type Def = InstrumentationModuleDefinition;

function patchNow(def: Def, dirs: readonly string[], runtime: HostRuntime, diag: DiagLogger): void {
  for (const dir of dirs) {
    const req = requireFrom(dir);
    const manifestFile = manifestPath(req, def.name);
    if (manifestFile === undefined) continue;
    try {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      const version = typeof manifest.version === 'string' ? manifest.version : undefined;
      apply(def, req(def.name), version);
      const esm = esmEntry(manifest, runtime);
      if (esm !== undefined) {
        // `require` of the ES module (both runtimes can), so register stays synchronous (no top-level await, for
        // `--require`); it is the same module instance the app's `import` gets.
        const ns = require(path.join(path.dirname(manifestFile), esm)) as Record<string, unknown>;
        // A module namespace is read-only (an assignment throws): the patch gets a copy of its bindings, so what it
        // changes in place (the classes' prototypes) reaches the app, and what it would swap stays in the copy.
        apply(def, { ...ns }, version);
        if (typeof ns.default === 'object' && ns.default !== null) apply(def, ns.default, version);
      }
    } catch (err) {
      diag.debug(`${def.name} could not be patched before the app started on ${runtime.name}; left as it is`, err);
    }
    return;
  }
}

/**
 * The package.json of `name` as `req` finds it: through its exports map when the map exports `./package.json`, else
 * the nearest one above its CommonJS entry that has its name (pg-pool 3.14's map leaves `./package.json` out).
 * Undefined when the package is not installed, or has no entry `require` can resolve.
 */
function manifestPath(req: NodeJS.Require, name: string): string | undefined {
  try {
    return req.resolve(`${name}/package.json`);
  } catch {
    // Not exported (or not installed): found from the entry below.
  }
  let dir: string;
  try {
    dir = path.dirname(req.resolve(name));
  } catch {
    return undefined;
  }
  for (; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === name) return file;
    } catch {
      // No manifest here (or not JSON): one folder up.
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function apply(def: Def, exports: unknown, version: string | undefined): void {
  def.patch?.(exports, version);
}

interface Manifest {
  version?: unknown;
  module?: unknown;
  exports?: unknown;
}

/** The file (relative to the package) an `import` of the package's root resolves to, when it differs from `require`'s. */
export function esmEntry(manifest: Manifest, runtime: HostRuntime): string | undefined {
  const root = rootExport(manifest.exports);
  const fromExports = conditional(root, runtime.name === 'bun' ? ['bun', 'import', 'module'] : ['deno', 'import']);
  if (fromExports !== undefined) return fromExports;
  // Bun prefers the `module` field for an `import` of a package without an exports map; Deno and Node ignore it.
  return runtime.name === 'bun' && root === undefined && typeof manifest.module === 'string'
    ? manifest.module
    : undefined;
}

function rootExport(exports: unknown): unknown {
  if (typeof exports === 'string' || exports === undefined || exports === null) return exports ?? undefined;
  if (typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  return Object.keys(map).some((k) => k.startsWith('.')) ? map['.'] : map;
}

function conditional(target: unknown, conditions: readonly string[]): string | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [key, value] of Object.entries(target as Record<string, unknown>)) {
    if (!conditions.includes(key)) continue;
    if (typeof value === 'string') return value;
    const nested = conditional(value, [...conditions, 'default']);
    if (nested !== undefined) return nested;
  }
  return undefined;
}
