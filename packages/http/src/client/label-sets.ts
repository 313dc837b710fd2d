import type { HistogramRef, Labels, PendingCount } from '@tuist-telemetry/core/internal';
import { statusLabel } from '../common/labels.js';

/**
 * The label objects of one method and host, made once and shared by every request with them, with those of each
 * response status made on first use: a request allocates no label object. Each also keeps the series refs of the
 * recorder that recorded it last (one telemetry: always the same), so a recording skips the store's label lookup.
 * Bounded: the method label has 10 values, the status 3 digits or `error`, and the origins holding the sets are
 * capped by their cache (origin.ts) or are an agent's pools.
 */
export class RequestLabelSet {
  /** `request_method` and `request_host`: the queue and send families. */
  readonly labels: Labels;
  /**
   * The queue and send series of the recorder that recorded this set last (kept until another recorder records it:
   * a set of the fetch wrapper's origin cache can keep a shut-down telemetry's families until its next request).
   */
  refs: PhaseRefs | undefined = undefined;
  private readonly byStatus = new Map<number, StatusLabels>();
  // The status of the previous finished request: most requests of a host and method get the same one.
  private lastCode: number | undefined = NaN;
  private lastStatus: StatusLabels | undefined = undefined;

  constructor(
    readonly method: string,
    readonly host: string,
  ) {
    this.labels = Object.freeze({ request_method: method, request_host: host });
  }

  /** The label sets of a finished request; `statusCode` undefined: no response arrived (`error`). */
  status(statusCode: number | undefined): StatusLabels {
    if (statusCode === this.lastCode) return this.lastStatus!;
    const key = statusCode ?? -1;
    let s = this.byStatus.get(key);
    if (s === undefined) {
      const status = statusLabel(statusCode);
      s = new StatusLabels(
        Object.freeze({ response_status: status, request_method: this.method, request_host: this.host }),
        Object.freeze({ status, request_method: this.method, request_host: this.host }),
      );
      this.byStatus.set(key, s);
    }
    this.lastCode = statusCode;
    this.lastStatus = s;
    return s;
  }
}

/** The label sets of a finished request: `tuist_http_request_*` and `tuist_http_receive_*` name the status apart. */
export class StatusLabels {
  /** The request and receive series of the recorder that recorded this set last. */
  refs: FinishRefs | undefined = undefined;
  constructor(
    readonly request: Labels,
    readonly receive: Labels,
  ) {}
}

/** The queue and send series of one RequestLabelSet in one recorder (`recorder`: the HttpRecorder, by identity). */
export class PhaseRefs {
  constructor(
    readonly recorder: object,
    readonly queueCount: PendingCount,
    readonly queueDuration: HistogramRef,
    readonly queueIdle: HistogramRef,
    readonly sendCount: PendingCount,
    readonly sendDuration: HistogramRef,
  ) {}
}

/** The request and receive series of one StatusLabels in one recorder (`recorder`: by identity). */
export class FinishRefs {
  constructor(
    readonly recorder: object,
    readonly requestCount: PendingCount,
    readonly requestDuration: HistogramRef,
    readonly receiveCount: PendingCount,
    readonly receiveDuration: HistogramRef,
  ) {}
}
