import { parseEscaping, type EscapingScheme } from '../labels/escaping.js';
import {
  CONTENT_TYPE,
  OPENMETRICS_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
  negotiateExposition,
  parseAccept,
  type ExpositionFormat,
} from './format.js';

/** Text format 1.0.0: 0.0.4 plus quoted UTF-8 names (what Prometheus 3 asks for with `escaping=allow-utf-8`). */
export const TEXT_1_0_0_CONTENT_TYPE = 'text/plain; version=1.0.0; charset=utf-8';

/** What a scrape is answered with. */
export interface Negotiated {
  format: ExpositionFormat;
  /** The `escaping=` the chosen media range carries (undefined: none or unknown; names as before). */
  escaping: EscapingScheme | undefined;
  /** The response's Content-Type (with `escaping=` echoed when one was asked for). */
  contentType: string;
}

/** The media ranges of an Accept header that can stand for `format`. */
function standsFor(format: ExpositionFormat, type: string): boolean {
  if (format === 'protobuf') return type === 'application/vnd.google.protobuf';
  if (format === 'openmetrics') return type === 'application/openmetrics-text';
  return type === 'text/plain';
}

/**
 * The format (as `negotiateExposition` picks it), the name escaping asked for with it, and the Content-Type. The
 * escaping comes from the most preferred media range of the chosen type (Prometheus 3 puts `escaping=` on each range
 * it sends: `text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4`); text answers as version 1.0.0 when that range
 * asked for it. A range with no or an unknown `escaping=` leaves the names as before, and the Content-Type as before.
 */
export function negotiateScrape(accept: string | undefined): Negotiated {
  const format = negotiateExposition(accept);
  let escaping: EscapingScheme | undefined;
  let text100 = false;
  // Fast path: no header, or one that names no escaping and no text 1.0.0 (Prometheus 2.x).
  if (accept && /escaping|version\s*=\s*"?1\.0\.0/i.test(accept)) {
    let best = 0;
    // The ranges as format.ts reads them (RFC 9110: any case, quoted values, strict q), so both agree on the format.
    for (const r of parseAccept(accept)) {
      if (!standsFor(format, r.type)) continue;
      const version = r.params.get('version');
      if (format === 'openmetrics' && version !== undefined && version !== '1.0.0') continue;
      if (!(r.q > best)) continue;
      best = r.q;
      escaping = parseEscaping(r.params.get('escaping'));
      text100 = version === '1.0.0';
    }
  }
  const base =
    format === 'protobuf'
      ? PROTOBUF_CONTENT_TYPE
      : format === 'openmetrics'
        ? OPENMETRICS_CONTENT_TYPE
        : text100
          ? TEXT_1_0_0_CONTENT_TYPE
          : CONTENT_TYPE;
  return { format, escaping, contentType: escaping === undefined ? base : base + '; escaping=' + escaping };
}
