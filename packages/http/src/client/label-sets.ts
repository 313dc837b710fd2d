import type { Labels } from '@tuist-telemetry/core/internal';
import { statusLabel } from '../common/labels.js';

/**
 * The label objects of one method and host, made once and shared by every request with them, with those of each
 * response status made on first use: a request allocates no label object, and the store's compiled lookup sees
 * label objects of one shape. Bounded: the method label has 10 values, the status 3 digits or `error`, and the
 * origins holding the sets are capped by their cache (origin.ts).
 */
export class RequestLabelSet {
  /** `request_method` and `request_host`: the queue and send families. */
  readonly labels: Labels;
  private readonly byStatus = new Map<number, StatusLabels>();

  constructor(
    readonly method: string,
    readonly host: string,
  ) {
    this.labels = Object.freeze({ request_method: method, request_host: host });
  }

  /** The label sets of a finished request; `statusCode` undefined: no response arrived (`error`). */
  status(statusCode: number | undefined): StatusLabels {
    const key = statusCode ?? -1;
    let s = this.byStatus.get(key);
    if (s === undefined) {
      const status = statusLabel(statusCode);
      s = {
        request: Object.freeze({ response_status: status, request_method: this.method, request_host: this.host }),
        receive: Object.freeze({ status, request_method: this.method, request_host: this.host }),
      };
      this.byStatus.set(key, s);
    }
    return s;
  }
}

/** The label sets of a finished request: `tuist_http_request_*` and `tuist_http_receive_*` name the status apart. */
export interface StatusLabels {
  readonly request: Labels;
  readonly receive: Labels;
}
