import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import type { InstrumentationRegistry, PatchedModule } from './registry.js';
import { supportsMajor } from './version.js';

/**
 * The base of the SDK's instrumentations (db's pg, http's undici and server, storage's S3), on the stock
 * `InstrumentationBase`, which keeps doing what it does (config, `diag`, require-in-the-middle and
 * import-in-the-middle hooks). What it adds, shaped like contrib's instrumentations (`init()` returning module
 * definitions, `enable`/`disable`):
 * - `enable()`/`disable()` never throw into the host, are idempotent, and keep the instance in its class's
 *   `InstrumentationRegistry` (`isEnabled()` answers from it);
 * - `moduleDefinition()`: a module patched under a major-version check with one warning, its patch and unpatch
 *   never throwing, patched again for an instance enabled after the module loaded, unpatched when the last
 *   instance is disabled (see `InstrumentationRegistry`);
 * - `warnOnce()`: one `diag` warning per instance and kind.
 * A subclass provides `registry` (and `lost`) as getters, not fields: OpenTelemetry's constructor calls `enable()`
 * before the subclass's fields exist. For the same reason its own fields set by `onEnable` are `declare`d.
 */
export abstract class TuistInstrumentationBase<
  C extends InstrumentationConfig = InstrumentationConfig,
> extends InstrumentationBase<C> {
  declare private warned: Set<string> | undefined;

  /** The registry of this instrumentation class (a module-level constant of the subclass's module). */
  protected abstract get registry(): InstrumentationRegistry<object>;

  /** What the host loses when enabling fails (`pools are not instrumented`). */
  protected abstract get lost(): string;

  /** Runs in `enable()` once the instance is registered and OpenTelemetry's hooks are set (subscriptions, direct patches). */
  protected onEnable(): void {}

  /** Runs in `disable()` once the instance left the registry; `last`: no instance of the class stays enabled. */
  protected onDisable(_last: boolean): void {}

  /** Reports a failed `enable()` (the instance stays disabled). */
  protected enableFailed(err: unknown): void {
    this._diag.error(`enable failed; ${this.lost}`, err);
  }

  override enable(): void {
    const registry = this.registry;
    if (registry.has(this)) return;
    try {
      registry.add(this);
      super.enable();
      for (const [exports, { module, version }] of registry.modules) this.patchModule(module, exports, version);
      this.onEnable();
    } catch (err) {
      registry.delete(this);
      this.enableFailed(err);
    }
  }

  override disable(): void {
    const registry = this.registry;
    if (!registry.has(this)) return;
    try {
      registry.delete(this);
      super.disable();
      const last = !registry.any;
      if (last) for (const [exports, { module }] of registry.modules) this.unpatchModule(module, exports);
      this.onDisable(last);
    } catch (err) {
      this._diag.error('disable failed', err);
    }
  }

  override isEnabled(): boolean {
    return this.registry.has(this);
  }

  /** One `diag` warning per instance and `kind` (a module version it cannot patch, say). */
  protected warnOnce(kind: string, message: string): void {
    const warned = (this.warned ??= new Set());
    if (warned.has(kind)) return;
    warned.add(kind);
    this._diag.warn(message);
  }

  /** The stock module definition of `module`, with every version accepted so that `patch` can warn about one. */
  protected moduleDefinition<T>(module: PatchedModule<T>): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      module.name,
      ['*'],
      (exports: unknown, version?: string) => this.patchModule(module, exports, version),
      (exports: unknown) => this.unpatchModule(module, exports),
    );
  }

  private patchModule<T>(module: PatchedModule<T>, exports: unknown, version: string | undefined): unknown {
    try {
      if (!supportsMajor(version, module.majors)) {
        this.warnOnce(
          'module',
          `${module.name} ${String(version)} is not supported (${module.supported}); ${module.lost}`,
        );
        return exports;
      }
      const target = module.find(exports);
      if (target === undefined) {
        this.warnOnce('module', module.unrecognised(version));
        return exports;
      }
      this.registry.modules.set(exports, { module: module as PatchedModule<unknown>, version });
      return module.patch(exports, target);
    } catch (err) {
      this._diag.error(`patching ${module.name} failed; ${module.lost}`, err);
    }
    return exports;
  }

  private unpatchModule<T>(module: PatchedModule<T>, exports: unknown): void {
    try {
      if (this.registry.any) return; // another instance still wants the patch
      module.unpatch(exports, module.find(exports));
    } catch (err) {
      this._diag.error('unpatching failed', err);
    }
  }
}
