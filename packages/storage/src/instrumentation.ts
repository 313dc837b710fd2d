import type { S3Client } from '@aws-sdk/client-s3';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { createRequire } from 'node:module';
import { addCommandMiddleware, isInstrumented } from './instrument.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Configuration of `TuistS3Instrumentation`: OpenTelemetry's `enabled` only. */
export type TuistS3InstrumentationConfig = InstrumentationConfig;

type Send = (this: S3Client, ...args: unknown[]) => unknown;
interface SendPatch {
  readonly wrapper: Send;
  /** An own `send` the prototype had before (none in today's SDK). */
  readonly own: Send | undefined;
}
/** On `S3Client.prototype`; `Symbol.for` so two copies of this package patch it once. */
const PATCH = Symbol.for('@tuist-telemetry/storage.TuistS3Instrumentation');
type Proto = { send: Send; [PATCH]?: SendPatch };

/** Enabled instances; clients found by any of them record while at least one is enabled. */
let enabledCount = 0;
const isActive = (): boolean => enabledCount > 0;
/**
 * Every `S3Client.prototype` an instance patched. An instance enabled after the module was loaded never sees it:
 * require-in-the-middle calls each module's hooks once, on its first load after the hooks exist, and hands the
 * cached exports to later `require`s without asking the new hook. Enabling any instance patches these again.
 */
const knownProtos = new Set<Proto>();

/**
 * Every `S3Client` of `@aws-sdk/client-s3` (v3) that sends a command after `enable()`, whoever created it, records
 * `tuist_storage_command_duration_milliseconds` and `tuist_storage_command_count` into the running telemetry, as
 * `instrumentS3Client` does (same middleware; a client is never instrumented twice). It patches
 * `S3Client.prototype.send` so that a client gets the middleware before its first command; the operations of
 * `createStorage` keep their own metrics.
 */
export class TuistS3Instrumentation extends InstrumentationBase<TuistS3InstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'aws-sdk';
  readonly shortName = TuistS3Instrumentation.shortName;
  declare private counted: boolean | undefined;
  declare private warnedVersion: boolean | undefined;

  constructor(config: TuistS3InstrumentationConfig = {}) {
    super('@tuist-telemetry/storage', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        '@aws-sdk/client-s3',
        ['*'],
        (exports: unknown, version?: string) => this.patch(exports, version),
        (exports: unknown) => this.unpatch(exports),
      ),
    ];
  }

  override enable(): void {
    try {
      if (!this.counted) {
        this.counted = true;
        enabledCount++;
      }
      super.enable();
      for (const proto of knownProtos) patchProto(proto);
    } catch (err) {
      this._diag.error('enable failed; S3 clients are not instrumented', err);
    }
  }

  override disable(): void {
    try {
      if (this.counted) {
        this.counted = false;
        enabledCount--;
      }
      super.disable();
      // Also when this instance never saw the module itself (then OpenTelemetry does not call `unpatch`).
      if (enabledCount === 0) for (const proto of knownProtos) unpatchProto(proto);
    } catch (err) {
      this._diag.error('disable failed', err);
    }
  }

  private patch(exports: unknown, version: string | undefined): unknown {
    try {
      const major = typeof version === 'string' ? Number(/^(\d+)\./.exec(version)?.[1]) : undefined;
      if (major !== undefined && major !== 3) {
        this.warnOnce(
          `@aws-sdk/client-s3 ${String(version)} is not supported (3.x is); S3 clients are not instrumented`,
        );
        return exports;
      }
      const proto = protoOf(exports);
      if (proto === undefined) {
        this.warnOnce('@aws-sdk/client-s3 has no S3Client.prototype.send; S3 clients are not instrumented');
        return exports;
      }
      knownProtos.add(proto);
      patchProto(proto);
    } catch (err) {
      this._diag.error('patching @aws-sdk/client-s3 failed; S3 clients are not instrumented', err);
    }
    return exports;
  }

  private unpatch(exports: unknown): void {
    try {
      if (enabledCount > 0) return; // another instance still wants the patch
      const proto = protoOf(exports);
      if (proto !== undefined) unpatchProto(proto);
    } catch (err) {
      this._diag.error('unpatching failed', err);
    }
  }

  private warnOnce(message: string): void {
    if (this.warnedVersion) return;
    this.warnedVersion = true;
    this._diag.warn(message);
  }
}

/** The module's `S3Client.prototype` (a CJS exports object or an ESM namespace). */
function protoOf(exports: unknown): Proto | undefined {
  const mod = exports as { S3Client?: unknown; default?: { S3Client?: unknown } } | undefined;
  const S3 = mod?.S3Client ?? mod?.default?.S3Client;
  const proto = typeof S3 === 'function' ? (S3 as { prototype: unknown }).prototype : undefined;
  return typeof proto === 'object' && proto !== null && typeof (proto as Proto).send === 'function'
    ? (proto as Proto)
    : undefined;
}

/**
 * Puts an own `send` on `S3Client.prototype` (the inherited one is shared by every AWS SDK client) that adds the
 * middleware to a client before its first command, then calls whatever `send` is next in line.
 */
function patchProto(proto: Proto): void {
  const existing = proto[PATCH];
  if (existing !== undefined) {
    if (!Object.hasOwn(proto, 'send') || proto.send === existing.own)
      Object.defineProperty(proto, 'send', { value: existing.wrapper, writable: true, configurable: true });
    return;
  }
  const parent = Object.getPrototypeOf(proto) as Proto;
  const own = Object.hasOwn(proto, 'send') ? proto.send : undefined;
  const wrapper: Send = function send(this: S3Client, ...args: unknown[]): unknown {
    if (
      isActive() &&
      typeof this === 'object' &&
      this !== null &&
      !isInstrumented(this) &&
      typeof this.middlewareStack?.add === 'function'
    ) {
      try {
        addCommandMiddleware(this, undefined, isActive);
      } catch {
        // never into the host: the command goes on unmeasured
      }
    }
    return (own ?? parent.send).apply(this, args);
  };
  Object.defineProperty(proto, PATCH, { value: { wrapper, own } satisfies SendPatch, configurable: true });
  Object.defineProperty(proto, 'send', { value: wrapper, writable: true, configurable: true });
}

/** Removes the own `send` when it is still ours; otherwise ours stays under the newer wrapper and passes through. */
function unpatchProto(proto: Proto): void {
  const p = proto[PATCH];
  if (p === undefined || !Object.hasOwn(proto, 'send') || proto.send !== p.wrapper) return;
  if (p.own !== undefined) Object.defineProperty(proto, 'send', { value: p.own, writable: true, configurable: true });
  else delete (proto as { send?: Send }).send;
}
