import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { logger, RateLimitedLogger } from '../diag/index.js';
import { isValidId } from '../store/exemplars.js';

const warn = new RateLimitedLogger(logger('core'));

/**
 * Exemplars on OTLP histogram data points.
 *
 * Why hand-written: sdk-metrics 2.12's `DataPoint` has no exemplars, and the stock serializers of
 * `@opentelemetry/otlp-transformer` 0.223 (read in its built JS) write none: the JSON one maps each histogram point
 * field by field (`toHistogramDataPoints`), the protobuf one writes straight from the SDK types with an internal
 * writer (`serializeHistogramDataPoint` skips field 8). Neither is configurable. So the catalog's producer notes each
 * point's exemplars here (a WeakMap: the SDK passes the producer's point objects to the exporter untouched, also when
 * it splits a batch), and `withExemplars` wraps the stock serializer: it serializes as before and adds the
 * exemplars to the histogram points of the result. Nothing else in the request is re-encoded by hand.
 */

/** One exemplar as OTLP carries it: the value, when (ms since the epoch), and the sampled span it was recorded in. */
export interface PointExemplar {
  value: number;
  timestamp: number;
  traceId: string;
  spanId: string;
}

/** Histogram data point object (as handed to the exporter) -> its exemplars. Written by the store's producer. */
export const pointExemplars = new WeakMap<object, PointExemplar[]>();

/** The part of otlp-transformer's `ISerializer` the export delegate calls. */
export interface MetricsSerializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): unknown;
}

type Points = readonly object[];

/** The exemplars of each histogram metric's points, by scope index and metric index; undefined when there are none. */
function exemplarsOf(rm: ResourceMetrics): (Points | undefined)[][] | undefined {
  let any = false;
  const out = rm.scopeMetrics.map((sm) =>
    sm.metrics.map((m) => {
      const points = m.dataPoints as Points;
      if (!points.some((p) => pointExemplars.has(p))) return undefined;
      any = true;
      return points;
    }),
  );
  return any ? out : undefined;
}

const nanos = (ms: number): bigint => BigInt(Math.round(ms)) * 1_000_000n;

/**
 * The exemplars of a point that can be sent: those with a valid span context (32 and 16 hex digits, not all zero;
 * the store keeps only such, this writer does not rely on it), ids lower-cased.
 */
function sendable(ex: readonly PointExemplar[] | undefined): PointExemplar[] {
  const out: PointExemplar[] = [];
  for (const e of ex ?? []) {
    if (isValidId(e.traceId, 32) && isValidId(e.spanId, 16))
      out.push({ ...e, traceId: e.traceId.toLowerCase(), spanId: e.spanId.toLowerCase() });
  }
  return out;
}

// ---- http/json: the stock JSON body, parsed, given `exemplars` on the histogram points, and written again. ----

interface JsonPoint {
  exemplars?: unknown[];
}
interface JsonRequest {
  resourceMetrics: {
    scopeMetrics: {
      metrics: { histogram?: { dataPoints: JsonPoint[] }; exponentialHistogram?: { dataPoints: JsonPoint[] } }[];
    }[];
  }[];
}

function addToJson(bytes: Uint8Array, plan: (Points | undefined)[][]): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as JsonRequest;
  // The stock JSON serializer emits one ResourceMetrics and keeps scope and metric order.
  doc.resourceMetrics[0]!.scopeMetrics.forEach((sm, si) =>
    sm.metrics.forEach((m, mi) => {
      const points = plan[si]?.[mi];
      const h = m.histogram ?? m.exponentialHistogram;
      if (!points || !h) return;
      h.dataPoints.forEach((p, pi) => {
        const ex = sendable(pointExemplars.get(points[pi]!));
        // OTLP/JSON: ids as hex strings, 64-bit integers as decimal strings.
        if (ex.length)
          p.exemplars = ex.map((e) => ({
            timeUnixNano: nanos(e.timestamp).toString(),
            asDouble: e.value,
            spanId: e.spanId,
            traceId: e.traceId,
          }));
      });
    }),
  );
  return new TextEncoder().encode(JSON.stringify(doc));
}

// ---- protobuf (http/protobuf and grpc): the repeated Exemplar field appended to each histogram data point: ----
// ---- HistogramDataPoint.exemplars (8), ExponentialHistogramDataPoint.exemplars (11). ----

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function readVarint(buf: Uint8Array, at: { i: number }): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[at.i++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

/**
 * A copy of the message `buf` in which every length-delimited field goes through `edit(field, bytes, nth)` (nth:
 * its index among the occurrences of that field number); other fields are copied as they are.
 */
function mapMessage(buf: Uint8Array, edit: (field: number, value: Uint8Array, nth: number) => Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const seen = new Map<number, number>();
  const at = { i: 0 };
  while (at.i < buf.length) {
    const start = at.i;
    const key = readVarint(buf, at);
    const wire = key & 7;
    if (wire === 0) readVarint(buf, at);
    else if (wire === 1) at.i += 8;
    else if (wire === 5) at.i += 4;
    else if (wire === 2) {
      const len = readVarint(buf, at);
      const field = key >>> 3;
      const nth = seen.get(field) ?? 0;
      seen.set(field, nth + 1);
      const value = edit(field, buf.subarray(at.i, at.i + len), nth);
      at.i += len;
      parts.push(Uint8Array.from([...varint(key), ...varint(value.length)]), value);
      continue;
    } else throw new Error(`protobuf wire type ${wire} is not used by OTLP metrics`);
    parts.push(buf.subarray(start, at.i));
  }
  return concat(parts);
}

const EXEMPLAR_BYTES = 1 + 8 + 1 + 8 + 2 + 8 + 2 + 16;

/** Exemplar: time_unix_nano (2, fixed64), as_double (3, double), span_id (4, bytes), trace_id (5, bytes). */
function encodeExemplar(e: PointExemplar): Uint8Array {
  const out = new Uint8Array(EXEMPLAR_BYTES);
  const view = new DataView(out.buffer);
  out[0] = (2 << 3) | 1;
  view.setBigUint64(1, nanos(e.timestamp), true);
  out[9] = (3 << 3) | 1;
  view.setFloat64(10, e.value, true);
  out.set([(4 << 3) | 2, 8], 18);
  out.set(Buffer.from(e.spanId, 'hex').subarray(0, 8), 20);
  out.set([(5 << 3) | 2, 16], 28);
  out.set(Buffer.from(e.traceId, 'hex').subarray(0, 16), 30);
  return out;
}

function addToProtobuf(bytes: Uint8Array, plan: (Points | undefined)[][]): Uint8Array {
  // ExportMetricsServiceRequest.resource_metrics (1) > scope_metrics (2) > metrics (2) > histogram (9) or
  // exponential_histogram (10) > data_points (1): the stock serializer writes them in the order of the
  // ResourceMetrics it was given.
  return mapMessage(bytes, (f, rm) =>
    f !== 1
      ? rm
      : mapMessage(rm, (f, sm, si) =>
          f !== 2
            ? sm
            : mapMessage(sm, (f, metric, mi) => {
                const points = plan[si]?.[mi];
                if (f !== 2 || !points) return metric;
                return mapMessage(metric, (f, histogram) => {
                  if (f !== 9 && f !== 10) return histogram;
                  const key = ((f === 9 ? 8 : 11) << 3) | 2;
                  return mapMessage(histogram, (f, point, pi) => {
                    const ex = f === 1 ? sendable(pointExemplars.get(points[pi]!)) : [];
                    if (!ex.length) return point;
                    return concat([
                      point,
                      ...ex.flatMap((e) => [Uint8Array.of(key, EXEMPLAR_BYTES), encodeExemplar(e)]),
                    ]);
                  });
                });
              }),
        ),
  );
}

/** The stock serializer, with the catalog's exemplars added to the histogram points it writes. */
export function withExemplars(stock: MetricsSerializer, encoding: 'json' | 'protobuf'): MetricsSerializer {
  return {
    serializeRequest(request) {
      const bytes = stock.serializeRequest(request);
      const plan = bytes && exemplarsOf(request);
      if (!bytes || !plan) return bytes;
      try {
        return encoding === 'json' ? addToJson(bytes, plan) : addToProtobuf(bytes, plan);
      } catch (err) {
        // Never lose an export over its exemplars: send what the stock serializer wrote.
        warn.error('otlp-exemplars', 'could not add exemplars to an OTLP export; sent without them', err);
        return bytes;
      }
    },
    deserializeResponse: (data) => stock.deserializeResponse(data),
  };
}
