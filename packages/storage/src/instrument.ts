import type { S3Client } from '@aws-sdk/client-s3';
import { TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core/internal';
import { COMMAND_COUNT_METRIC, COMMAND_DURATION_METRIC, recordDurationAndCount, resolveTelemetry } from './metrics.js';
import type { InstrumentS3ClientOptions } from './types.js';
import { commandLabel } from './aws-sdk.js';

/** Marks an instrumented client; `Symbol.for` so two copies of this package still see each other's mark. */
const INSTRUMENTED = Symbol.for('@tuist-telemetry/storage.instrumented');
const MIDDLEWARE_NAME = 'tuistTelemetryCommandMetrics';

/** Presigning runs the command's middleware without sending anything; its output carries the URL. */
function isPresign(output: unknown): boolean {
  return typeof output === 'object' && output !== null && 'presigned' in output;
}

/** Whether a client has the command middleware already (from `instrumentS3Client` or `TuistS3Instrumentation`). */
export function isInstrumented(client: object): boolean {
  return (client as { [INSTRUMENTED]?: true })[INSTRUMENTED] === true;
}

/**
 * Adds the command middleware to a client that does not have it. `active` is asked at every command (the
 * Instrumentation's clients stop recording while it is disabled).
 */
export function addCommandMiddleware(client: S3Client, explicit: Telemetry | undefined, active?: () => boolean): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const start = performance.now();
      const record = (outcome: 'ok' | 'error'): void => {
        if (active !== undefined && !active()) return;
        const t = resolveTelemetry(explicit);
        if (t === undefined) return;
        const labels = { command: commandLabel(context.commandName), outcome };
        recordDurationAndCount(t, COMMAND_DURATION_METRIC, COMMAND_COUNT_METRIC, performance.now() - start, labels);
      };
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (err) {
        record('error');
        throw err;
      }
      if (!isPresign(result.output)) record('ok');
      return result;
    },
    { step: 'initialize', name: MIDDLEWARE_NAME, priority: 'high', override: true },
  );
  Object.defineProperty(client, INSTRUMENTED, { value: true });
}

/**
 * Adds one middleware to the client (step `initialize`, so it times the whole command, retries included) that
 * records `tuist_storage_command_duration_milliseconds` and `tuist_storage_command_count` with the labels
 * `command` (the S3 operation, e.g. `HeadObject`) and `outcome` (`ok` or `error`). Idempotent: a second call on
 * the same client changes nothing (nor does a call on a client `TuistS3Instrumentation` instrumented). Presigning
 * (getSignedUrl) sends no request and is not counted. Returns the client.
 */
export function instrumentS3Client<C extends S3Client>(client: C, options: InstrumentS3ClientOptions = {}): C {
  if (typeof client === 'object' && client !== null && isInstrumented(client)) return client;
  if (typeof client?.middlewareStack?.add !== 'function') {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: instrumentS3Client(client) needs an S3Client from @aws-sdk/client-s3',
    );
  }
  const explicit = options.telemetry;
  if (explicit !== undefined && typeof explicit?.store?.histogram !== 'function') {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: instrumentS3Client(client, { telemetry }) must be what startTelemetry() returned (or leave it out)',
    );
  }
  addCommandMiddleware(client, explicit);
  return client;
}
