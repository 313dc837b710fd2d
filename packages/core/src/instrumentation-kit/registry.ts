import type { Majors } from './version.js';

/**
 * A module an instrumentation patches, as plain data and functions of the module alone (no instance in them: a
 * module one instance patched is patched again and unpatched by the others, see `InstrumentationRegistry`).
 * `T` is what `find` locates in the exports to patch (a prototype, a class).
 */
export interface PatchedModule<T> {
  /** The module's name, as `require` takes it (`pg`, `@aws-sdk/client-s3`). */
  readonly name: string;
  readonly majors: Majors;
  /** The supported versions in the warning: `${name} ${version} is not supported (${supported}); ${lost}`. */
  readonly supported: string;
  /** What the host loses when the module is not patched (`its pools are not instrumented`). */
  readonly lost: string;
  /** What to patch in the exports; `undefined` when the module does not look like the supported one. */
  find(exports: unknown): T | undefined;
  /** The warning for a module `find` did not recognise. */
  unrecognised(version: string | undefined): string;
  /** Patches the module (idempotent: it runs again when another instance is enabled); returns the exports to use. */
  patch(exports: unknown, target: T): unknown;
  /** Removes the patch where it is still on top; `target` is `undefined` when `find` no longer recognises it. */
  unpatch(exports: unknown, target: T | undefined): void;
}

/**
 * The enabled instances of one instrumentation class, in the order they were enabled (the first one's config
 * decides where several disagree), and the modules they patched. One per copy of a package, made by the module
 * that defines the instrumentation; its patches read it at the time of each call (`any`), so they pass calls
 * through while no instance is enabled.
 *
 * The modules are kept because an instance enabled after a module was loaded never sees it: require-in-the-middle
 * calls a module's hooks once, on its first load after they exist, and hands later `require`s the cached exports
 * without asking a newer hook. So enabling any instance patches them again, and the last one disabled removes the
 * patches (also those of modules it never saw itself, for which OpenTelemetry does not call its `unpatch`).
 */
export class InstrumentationRegistry<I extends object> {
  private readonly instances: I[] = [];
  /** Module exports patched by any instance → the module and the version it was loaded at. */
  readonly modules = new Map<
    unknown,
    { readonly module: PatchedModule<unknown>; readonly version: string | undefined }
  >();

  /** True while at least one instance is enabled. */
  get any(): boolean {
    return this.instances.length > 0;
  }

  /** The instance enabled first, whose config is used; `undefined` when none is enabled. */
  get first(): I | undefined {
    return this.instances[0];
  }

  has(instance: I): boolean {
    return this.instances.includes(instance);
  }

  add(instance: I): void {
    if (!this.instances.includes(instance)) this.instances.push(instance);
  }

  delete(instance: I): void {
    const i = this.instances.indexOf(instance);
    if (i >= 0) this.instances.splice(i, 1);
  }
}
