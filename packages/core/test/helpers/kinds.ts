import type { DiagLogger } from '@opentelemetry/api';
import { RateLimitedLogger } from '@tuist-telemetry/core/internal';

/**
 * A RateLimitedLogger that also keeps the kind of every warning and error asked for, logged or suppressed (the rate
 * limit is per kind). Give it `keepingLogger(lines).logger` to keep what it logs.
 */
export class KindsKept extends RateLimitedLogger {
  constructor(
    log: DiagLogger,
    readonly kinds: string[] = [],
  ) {
    super(log);
  }
  override warn(kind: string, message: string): void {
    this.kinds.push(kind);
    super.warn(kind, message);
  }
  override error(kind: string, message: string, err?: unknown): void {
    this.kinds.push(kind);
    super.error(kind, message, err);
  }
}
