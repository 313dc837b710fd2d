import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OtlpProtocol } from '../config/index.js';
import { describeError, type RateLimitedLogger } from '../diag/index.js';

/** How long `shutdown()` gives the last OTLP export when the collector is unreachable or slow. */
export const FINAL_FLUSH_BOUND_MS = 2000;

/** The longest backoffs of otlp-exporter-base's retrying transport: 1 s plus 20% jitter, times 1.5 a retry, 5 s at most. */
const MAX_FIRST_RETRY_MS = 1200;
const MAX_RETRY_MS = 5000;

/** What a failure message names: the signal, where the export went and which setting chose each part. */
export interface OtlpTarget {
  signal: 'metrics' | 'traces';
  /** The URL the exporter posts to (its default when none was configured). */
  url: string;
  protocol: OtlpProtocol;
  /** The option or variable that set the URL and the protocol; undefined = the default. */
  urlFrom: string | undefined;
  protocolFrom: string | undefined;
}

/** The URL an OTLP exporter of `signal` over `protocol` uses when nothing sets one (the exporters' own default). */
export function defaultOtlpUrl(protocol: OtlpProtocol, signal: OtlpTarget['signal']): string {
  return protocol === 'grpc' ? 'http://localhost:4317' : `http://localhost:4318/v1/${signal}`;
}

/** What OtlpFailures.exporter wraps: a PushMetricExporter or a SpanExporter. */
interface AnyExporter {
  export(items: never, done: (result: ExportResult) => void): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
  selectAggregationTemporality?: unknown;
  selectAggregation?: unknown;
}

/** What the attempt wrapper answers, without sending, once an export's time is spent (its cause was reported). */
class BudgetSpent extends Error {}

/** A retryable answer without an error: the HTTP transport's 429, 502, 503 or 504 (it keeps no status code). */
class RetryLater extends Error {
  override message = 'the collector answered "retry later" (HTTP 429, 502, 503 or 504); is it overloaded?';
}

/** One attempt's outcome, as otlp-exporter-base's transports report it. */
interface SendResult {
  status: 'success' | 'failure' | 'retryable';
  error?: unknown;
  retryInMillis?: number;
  data?: Uint8Array;
}
interface Transport {
  send(data: Uint8Array, timeoutMillis: number): Promise<SendResult>;
  shutdown(): void;
}

/** What a user reads for the network errors an export meets most. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

/** A short reason for a failed attempt and the kind it is rate-limited by. */
function reason(err: unknown, waitedMs: number): { kind: string; text: string } {
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const message = describeError(err);
  // A system error's code: E plus capitals (ECONNREFUSED), or one of the named ones (EAI_AGAIN has an underscore,
  // like Node's own ERR_* codes, which are not network errors and keep their message).
  if (typeof e.code === 'string' && (Object.hasOwn(NETWORK_ERRORS, e.code) || /^E[A-Z]+$/.test(e.code))) {
    return {
      kind: e.code,
      text: `${NETWORK_ERRORS[e.code] ?? 'network error'} (${e.code}); is a collector listening there?`,
    };
  }
  // OTLPExporterError of the HTTP transport: the status code and its text.
  if (typeof e.code === 'number' && e.code >= 100 && e.code < 600) {
    const hint =
      e.code === 404
        ? ' (is this an OTLP receiver, and the path right?)'
        : e.code === 401 || e.code === 403
          ? ' (OTEL_EXPORTER_OTLP_HEADERS carries credentials)'
          : '';
    return {
      kind: `HTTP ${e.code}`,
      text: `HTTP ${e.code}${typeof e.message === 'string' && e.message ? ` ${e.message}` : ''}${hint}`,
    };
  }
  if (err instanceof RetryLater) return { kind: 'retry-later', text: err.message };
  if (err === undefined || message === 'Request timed out' || /DEADLINE_EXCEEDED/.test(message)) {
    return { kind: 'timeout', text: `no answer within ${waitedMs} ms` };
  }
  // gRPC puts the cause after "Last error:"; keep one line and a bounded length.
  const line = message.split('\n')[0]!.replace(/\s+/g, ' ');
  const refused = /ECONNREFUSED/.test(line);
  return {
    kind: refused ? 'ECONNREFUSED' : 'other',
    text: refused
      ? 'connection refused (ECONNREFUSED); is a collector listening there?'
      : line.length > 200
        ? line.slice(0, 200) + '…'
        : line,
  };
}

/**
 * Makes an OTLP exporter's failures readable and its final flush bounded (issue 24 item 5):
 * - the first failed attempt of an export (a refused connection, an HTTP error, no answer in time) is reported at
 *   once, as one line naming the URL, the protocol and the option or variable that chose each, at most once a
 *   minute per kind (`warnings`), instead of a JSON dump of a stack after all retries (seconds later, once the
 *   reader's timeout passed);
 * - an export ends within `budgetMs` (a metric reader's timeout): attempts are cut to what is left of it, and no
 *   retry starts past it, so the reader never reports a bare `metrics export timed out` and exports do not pile up;
 * - once shutting down (`close()`), the last export gets `FINAL_FLUSH_BOUND_MS` and no retry.
 * A reported failure reaches the reader or span processor as handled (SUCCESS): it would only log it again, as
 * that dump.
 */
export class OtlpFailures {
  private deadline: number | undefined;
  /** When a failure was last reported: an export whose attempt failed already needs no second line at its timeout. */
  private lastReportAt = 0;
  private readonly pending = new Set<(deadline: number) => void>();
  /** Whether `transport` wraps the exporter's attempts (then each failed attempt reports itself, timeouts included). */
  private seesAttempts = false;

  constructor(
    private readonly target: OtlpTarget,
    private readonly budgetMs: number,
    private readonly warnings: RateLimitedLogger,
  ) {}

  private report(err: unknown, waitedMs: number): void {
    if (err instanceof BudgetSpent) return;
    this.lastReportAt = Date.now();
    const { kind, text } = reason(err, waitedMs);
    const t = this.target;
    const full = `OTEL_EXPORTER_OTLP_${t.signal.toUpperCase()}_ENDPOINT`;
    const address =
      t.urlFrom === undefined
        ? `the default: set OTEL_EXPORTER_OTLP_ENDPOINT (or ${full}, the full URL) to your collector`
        : t.urlFrom === 'OTEL_EXPORTER_OTLP_ENDPOINT'
          ? `set by OTEL_EXPORTER_OTLP_ENDPOINT${t.protocol === 'grpc' ? '' : ` (plus /v1/${t.signal})`}; ${full} sets a full URL`
          : `set by ${t.urlFrom}`;
    const protocol =
      t.protocolFrom === undefined ? 'the default (OTEL_EXPORTER_OTLP_PROTOCOL sets it)' : `set by ${t.protocolFrom}`;
    this.warnings.error(
      `otlp-export:${t.signal}:${t.url}:${kind}`,
      `OTLP ${t.signal} export to ${t.url} failed: ${text}${text.endsWith('?') ? '' : '.'} The URL is ${address}; the protocol, ${t.protocol}, is ${protocol}. Reported once a minute while it lasts`,
    );
  }

  /** Wraps the transport one attempt goes through (below the exporter's retries): sees and bounds each attempt. */
  transport(inner: Transport): Transport {
    this.seesAttempts = true;
    // The retrying transport sends the same bytes again: their first attempt is where the export's budget started.
    const tries = new WeakMap<Uint8Array, { started: number; count: number }>();
    return {
      send: async (data, timeoutMillis) => {
        const now = Date.now();
        let entry = tries.get(data);
        if (!entry) tries.set(data, (entry = { started: now, count: 0 }));
        const retryIn = Math.min(MAX_RETRY_MS, MAX_FIRST_RETRY_MS * 1.5 ** entry.count++);
        const started = entry.started;
        const until = Math.min(started + this.budgetMs, this.deadline ?? Infinity);
        if (until - now <= 0) return { status: 'failure', error: new BudgetSpent('export budget spent') };
        const timeout = Math.min(timeoutMillis, until - now);
        const result = await inner.send(data, timeout);
        if (result.status === 'success') return result;
        const error = result.error ?? (result.status === 'retryable' ? new RetryLater() : undefined);
        this.report(error, timeout);
        // No retry that could not finish in time, and none once shutting down.
        if (
          result.status === 'retryable' &&
          (this.deadline !== undefined || until - Date.now() < (result.retryInMillis ?? retryIn))
        ) {
          return { status: 'failure', error };
        }
        return { ...result, error };
      },
      shutdown: () => inner.shutdown(),
    };
  }

  /** Wraps the exporter the reader (or span processor) calls: an export ends in time, whatever its transport does. */
  exporter<E extends AnyExporter>(inner: E): E {
    const wrapped: AnyExporter = {
      export: (items: never, done: (result: ExportResult) => void) => {
        const startedAt = Date.now();
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const settle = (result: ExportResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.pending.delete(until);
          done(result);
        };
        const arm = (at: number): void => {
          clearTimeout(timer);
          timer = setTimeout(
            () => {
              // Cut off. A failed attempt has reported already; one still running ends (and reports) by itself at the
              // same budget, but not before shutdown() returns; without sight of the attempts, say that nothing answered.
              if (this.lastReportAt < startedAt && (!this.seesAttempts || this.deadline !== undefined))
                this.report(undefined, Date.now() - startedAt);
              settle({ code: ExportResultCode.SUCCESS });
            },
            Math.max(0, at - Date.now()),
          );
          timer.unref();
        };
        // A little before the reader's own timeout, so this line (not its bare one) reports a silent collector;
        // sooner once shutting down.
        const until = (deadline: number): void => arm(Math.min(startedAt + this.budgetMs, deadline));
        until(this.deadline ?? Infinity);
        this.pending.add(until);
        try {
          inner.export(items, (result) => {
            if (result.code !== ExportResultCode.SUCCESS) this.report(result.error, Date.now() - startedAt);
            settle({ code: ExportResultCode.SUCCESS });
          });
        } catch (err) {
          this.report(err, 0);
          settle({ code: ExportResultCode.SUCCESS });
        }
      },
      forceFlush: () => this.bounded(inner.forceFlush?.() ?? Promise.resolve()),
      shutdown: () => this.bounded(inner.shutdown()),
    };
    for (const k of ['selectAggregationTemporality', 'selectAggregation'] as const) {
      const f = inner[k];
      if (typeof f === 'function') wrapped[k] = f.bind(inner);
    }
    return wrapped as E;
  }

  /** The reader shuts down: what is left (the exports in flight, the last one) ends within FINAL_FLUSH_BOUND_MS. */
  close(): void {
    if (this.deadline !== undefined) return;
    const deadline = (this.deadline = Date.now() + FINAL_FLUSH_BOUND_MS);
    for (const arm of this.pending) arm(deadline);
  }

  private async bounded(p: Promise<void>): Promise<void> {
    if (this.deadline === undefined) return p;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, this.deadline! - Date.now()))));
    try {
      await Promise.race([p.catch(() => {}), bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Puts `failures.transport` under the retries of an export delegate laid out as otlp-exporter-base 0.223 lays it
 * out (`_transport`: a retrying transport over the HTTP one, or the gRPC transport itself). False when the layout
 * is not that one: the exporter then still reports through `failures.exporter`, only after its retries.
 */
export function observeAttempts(delegate: unknown, failures: OtlpFailures): boolean {
  const d = delegate as { _transport?: Transport & { _transport?: Transport } } | null;
  const outer = d?._transport;
  if (!outer || typeof outer.send !== 'function') return false;
  const holder =
    outer._transport && typeof outer._transport.send === 'function'
      ? (outer as { _transport: Transport })
      : (d as { _transport: Transport });
  holder._transport = failures.transport(holder._transport);
  return true;
}
