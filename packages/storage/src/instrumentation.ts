import type { S3Client } from '@aws-sdk/client-s3';
import type { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import {
  InstrumentationRegistry,
  patchMethods,
  TuistInstrumentationBase,
  unpatchMethods,
  type Method,
  type PatchedModule,
} from '@tuist-telemetry/core/internal';
import { createRequire } from 'node:module';
import { addCommandMiddleware, isInstrumented } from './instrument.js';
import type { TuistS3InstrumentationConfig } from './types.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** On `S3Client.prototype`; `Symbol.for` so two copies of this package patch it once. */
const PATCH = Symbol.for('@tuist-telemetry/storage.TuistS3Instrumentation');

/** The enabled instances; clients found by any of them record while at least one is enabled. */
const enabled = new InstrumentationRegistry<TuistS3Instrumentation>();
const isActive = (): boolean => enabled.any;

/**
 * Puts an own `send` on `S3Client.prototype` (the inherited one is shared by every AWS SDK client) that adds the
 * middleware to a client before its first command, then calls whatever `send` is next in line.
 */
function wrapSend(next: () => Method): Method {
  return function send(this: unknown, ...args: unknown[]): unknown {
    const client = this as S3Client;
    if (
      enabled.any &&
      typeof client === 'object' &&
      client !== null &&
      !isInstrumented(client) &&
      typeof client.middlewareStack?.add === 'function'
    ) {
      try {
        addCommandMiddleware(client, undefined, isActive);
      } catch {
        // never into the host: the command goes on unmeasured
      }
    }
    return next().apply(this, args);
  };
}

/** `@aws-sdk/client-s3` v3: its `S3Client.prototype` (a CJS exports object or an ESM namespace). */
const clientS3: PatchedModule<object> = {
  name: '@aws-sdk/client-s3',
  majors: [3, 3],
  supported: '3.x is',
  lost: 'S3 clients are not instrumented',
  find(exports) {
    const mod = exports as { S3Client?: unknown; default?: { S3Client?: unknown } } | undefined;
    const S3 = mod?.S3Client ?? mod?.default?.S3Client;
    const proto = typeof S3 === 'function' ? (S3 as { prototype: unknown }).prototype : undefined;
    return typeof proto === 'object' && proto !== null && typeof (proto as { send?: unknown }).send === 'function'
      ? proto
      : undefined;
  },
  unrecognised: () => '@aws-sdk/client-s3 has no S3Client.prototype.send; S3 clients are not instrumented',
  patch(exports, proto) {
    patchMethods(proto, PATCH, { send: wrapSend });
    return exports;
  },
  unpatch(_exports, proto) {
    if (proto !== undefined) unpatchMethods(proto, PATCH);
  },
};

/**
 * Every `S3Client` of `@aws-sdk/client-s3` (v3) that sends a command after `enable()`, whoever created it, records
 * `tuist_storage_command_duration_milliseconds` and `tuist_storage_command_count` into the running telemetry, as
 * `instrumentS3Client` does (same middleware; a client is never instrumented twice). It patches
 * `S3Client.prototype.send` so that a client gets the middleware before its first command; the operations of
 * `createStorage` keep their own metrics.
 */
export class TuistS3Instrumentation extends TuistInstrumentationBase<TuistS3InstrumentationConfig> {
  /** The short name `OTEL_NODE_ENABLED_INSTRUMENTATIONS` / `OTEL_NODE_DISABLED_INSTRUMENTATIONS` take. */
  static readonly shortName = 'aws-sdk';
  readonly shortName = TuistS3Instrumentation.shortName;

  constructor(config: TuistS3InstrumentationConfig = {}) {
    super('@tuist-telemetry/storage', VERSION, config);
  }

  protected get registry(): InstrumentationRegistry<TuistS3Instrumentation> {
    return enabled;
  }

  protected get lost(): string {
    return 'S3 clients are not instrumented';
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [this.moduleDefinition(clientS3)];
  }
}
