import { InstrumentationRegistry, TuistInstrumentationBase } from '@tuist-telemetry/core/internal';
import { createRequire } from 'node:module';
import { instrumentUndici } from './global-dispatcher.js';
import type { TuistUndiciInstrumentationConfig, Uninstall } from './types.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The enabled instances (each installs its own agent; the last one installed is undici's global dispatcher). */
const enabled = new InstrumentationRegistry<TuistUndiciInstrumentation>();

/**
 * `instrumentUndici()` as an OpenTelemetry Instrumentation: `enable()` installs the instrumented Agent as undici's
 * global dispatcher (which Node's built-in `fetch` uses too); `disable()` restores the previous dispatcher. It
 * patches no module and subscribes to no channel (undici's dispatcher is its public extension point), so it runs
 * next to `@opentelemetry/instrumentation-undici`, which only listens to undici's diagnostics channels. Never throws into the host: a failure is reported through its `diag` logger.
 */
export class TuistUndiciInstrumentation extends TuistInstrumentationBase<TuistUndiciInstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'undici';
  readonly shortName = TuistUndiciInstrumentation.shortName;
  // `declare`: set by enable() while the base constructor runs, so no field initializer may reset it afterwards.
  declare private uninstall: Uninstall | undefined;

  constructor(config: TuistUndiciInstrumentationConfig = {}) {
    super('@tuist-telemetry/http/undici', VERSION, config);
  }

  protected get registry(): InstrumentationRegistry<TuistUndiciInstrumentation> {
    return enabled;
  }

  protected get lost(): string {
    return 'requests are not measured';
  }

  protected init(): [] {
    return [];
  }

  override setConfig(config: TuistUndiciInstrumentationConfig = {}): void {
    super.setConfig(config === null || typeof config !== 'object' ? {} : config);
    // A running instance picks the new options up by reinstalling its agent.
    if (this.uninstall !== undefined) {
      this.disable();
      this.enable();
    }
  }

  protected override onEnable(): void {
    const { enabled: _enabled, ...options } = this.getConfig();
    this.uninstall = instrumentUndici(options);
  }

  protected override enableFailed(err: unknown): void {
    this._diag.error(`not enabled: ${String((err as Error)?.message ?? err)}`);
  }

  protected override onDisable(): void {
    const uninstall = this.uninstall;
    this.uninstall = undefined;
    uninstall?.();
  }
}
