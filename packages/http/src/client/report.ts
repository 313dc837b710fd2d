import { reportFailure } from '@tuist-telemetry/core/internal';

/** Logs a failure of the instrumentation itself (at most once a minute per kind); the request is not affected. */
export function reportInternalError(kind: string, err: unknown): void {
  reportFailure(
    `http:${kind}`,
    `@tuist-telemetry/http: the instrumentation failed (${kind}); requests are not affected`,
    err,
  );
}
