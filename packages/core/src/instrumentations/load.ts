import type { DiagLogger } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { KnownInstrumentation } from './known.js';

type Require = ReturnType<typeof createRequire>;

/**
 * The folders the app's packages are resolved from: the entry script's folder (`node app.js`), then the working
 * directory. Node's own resolution from there finds npm's and yarn's flat `node_modules`, pnpm's symlinked ones
 * and Yarn Plug'n'Play (whose runtime patches the resolver).
 */
export function appDirectories(): string[] {
  const dirs: string[] = [];
  const entry = process.argv[1];
  if (entry) {
    try {
      dirs.push(path.dirname(realpathSync(entry)));
    } catch {
      dirs.push(path.dirname(path.resolve(entry)));
    }
  }
  dirs.push(process.cwd());
  return [...new Set(dirs)];
}

/** A `require` that resolves as a module in `dir` would. */
export function requireFrom(dir: string): Require {
  // createRequire takes a file; the file itself need not exist.
  return createRequire(path.join(dir, '__tuist_telemetry_resolve__.js'));
}

function resolveFrom(requires: readonly Require[], id: string): { req: Require; file: string } | undefined {
  for (const req of requires) {
    try {
      return { req, file: req.resolve(id) };
    } catch {
      /* not installed there */
    }
  }
  return undefined;
}

/** An installed Tuist instrumentation, found but not created yet. */
export interface FoundInstrumentation {
  known: KnownInstrumentation;
  /** Loads the SDK package and creates the instrumentation (which enables it); undefined when that fails. */
  create(): Instrumentation | undefined;
}

/**
 * Finds one Tuist instrumentation in the app: its SDK package must be installed in the app, and its target
 * library in the app or next to the SDK package; otherwise it is skipped quietly (debug message only). The SDK
 * packages are ES modules, loaded with `require` (Node >= 20.19 loads ES modules that way) so this stays
 * synchronous for `new NodeSDK({ instrumentations: tuistInstrumentations() })`.
 */
export function findInstrumentation(
  known: KnownInstrumentation,
  dirs: readonly string[],
  log: DiagLogger,
): FoundInstrumentation | undefined {
  const requires = dirs.map(requireFrom);
  const pkg = resolveFrom(requires, known.package);
  if (!pkg) {
    log.debug(`${known.name}: ${known.package} is not installed in the app; skipped`);
    return undefined;
  }
  if (known.library && !resolveFrom([...requires, requireFrom(path.dirname(pkg.file))], known.library)) {
    log.debug(`${known.name}: ${known.library} is not installed; skipped`);
    return undefined;
  }
  return { known, create: () => create(known, pkg, log) };
}

function create(
  known: KnownInstrumentation,
  pkg: { req: Require; file: string },
  log: DiagLogger,
): Instrumentation | undefined {
  let mod: Record<string, unknown>;
  try {
    mod = pkg.req(pkg.file) as Record<string, unknown>;
  } catch (err) {
    log.warn(`${known.name}: ${known.package} could not be loaded; skipped`, err);
    return undefined;
  }
  const Ctor = mod[known.exportName];
  if (typeof Ctor !== 'function') {
    log.warn(`${known.name}: ${known.package} has no ${known.exportName} (an older version?); skipped`);
    return undefined;
  }
  try {
    return new (Ctor as new () => Instrumentation)();
  } catch (err) {
    log.warn(`${known.name}: ${known.exportName} could not be created; skipped`, err);
    return undefined;
  }
}
