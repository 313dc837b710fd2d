import { logger, WarnOnce } from '@tuist-telemetry/core';

const warnings = new WarnOnce(logger('http'));

/** Logs a failure of the instrumentation itself (at most once a minute per kind); the request is not affected. */
export function reportInternalError(kind: string, err: unknown): void {
  try {
    warnings.error(kind, `@tuist-telemetry/http: the instrumentation failed (${kind}); requests are not affected`, err);
  } catch {
    // A logger that throws must not reach the request either.
  }
}
