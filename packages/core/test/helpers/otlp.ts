import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { within } from './bounded.js';

export interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/** A local stand-in for an OTLP/HTTP receiver (an OpenTelemetry Collector): answers 200 and keeps every body. */
export async function otlpReceiver(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
  next(): Promise<Received>;
}> {
  const received: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) };
      received.push(r);
      waiters.splice(0).forEach((w) => w(r));
      const json = (r.contentType ?? '').includes('json');
      res
        .writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' })
        .end(json ? '{}' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    // Bounded: a bug that stops the exports fails the test at once (see bounded.ts).
    next: () => within(new Promise<Received>((r) => waiters.push(r)), 'an OTLP/HTTP export at the receiver'),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A port nothing listens on: bound on 127.0.0.1, read back, closed (a connection to it is refused). */
export async function refusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * An OTLP/HTTP receiver that reads every request and never answers (an overloaded or wedged collector), or with
 * `status`, answers each with that status (503: a collector shedding load, which exporters retry).
 */
export async function silentReceiver(
  status?: number,
): Promise<{ url: string; requests(): number; connections(): Promise<number>; close(): Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (status) req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    connections: () =>
      new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface JsonAttr {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
export interface JsonMetric {
  name: string;
  sum?: {
    aggregationTemporality?: number;
    isMonotonic?: boolean;
    dataPoints: { asDouble?: number; asInt?: string | number; attributes?: JsonAttr[] }[];
  };
  histogram?: {
    aggregationTemporality?: number;
    dataPoints: { count: string | number; sum?: number; explicitBounds?: number[]; attributes?: JsonAttr[] }[];
  };
}
export interface JsonExport {
  resourceMetrics: {
    resource: { attributes: JsonAttr[] };
    scopeMetrics: { scope?: { name: string }; metrics: JsonMetric[] }[];
  }[];
}

/** Every metric of an OTLP/JSON export, by name. */
export function jsonMetrics(body: Buffer): Map<string, JsonMetric> {
  const doc = JSON.parse(body.toString('utf8')) as JsonExport;
  const out = new Map<string, JsonMetric>();
  for (const rm of doc.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

/**
 * A minimal protobuf wire-format reader (varints and length-delimited fields are all the OTLP paths below need):
 * the values of field `n` of a message, as raw bytes (length-delimited) or numbers (varint, fixed64 as a double).
 */
export function fields(buf: Buffer, n: number): Buffer[] {
  return rawFields(buf, n).filter((v): v is Buffer => Buffer.isBuffer(v));
}

export function rawFields(buf: Buffer, n: number): (Buffer | number | bigint)[] {
  const out: (Buffer | number | bigint)[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    const field = key >>> 3;
    if (wire === 0) {
      const v = varint();
      if (field === n) out.push(v);
    } else if (wire === 1) {
      if (field === n) out.push(buf.readDoubleLE(i));
      i += 8;
    } else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = Number(varint());
      if (field === n) out.push(buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Resource attributes (string values) of each ResourceMetrics in an ExportMetricsServiceRequest. */
export function protobufResources(body: Buffer): Record<string, string>[] {
  return fields(body, 1).map((rm) => {
    const attrs: Record<string, string> = {};
    for (const resource of fields(rm, 1)) {
      for (const kv of fields(resource, 1)) {
        const key = fields(kv, 1)[0]!.toString('utf8');
        const str = fields(fields(kv, 2)[0] ?? Buffer.alloc(0), 1)[0];
        if (str) attrs[key] = str.toString('utf8');
      }
    }
    return attrs;
  });
}

/** Metric names of an ExportMetricsServiceRequest: resource_metrics(1) > scope_metrics(2) > metrics(2) > name(1). */
export function protobufMetricNames(body: Buffer): string[] {
  return fields(body, 1).flatMap((rm) =>
    fields(rm, 2).flatMap((sm) => fields(sm, 2).map((m) => fields(m, 1)[0]!.toString('utf8'))),
  );
}

export interface DecodedExemplar {
  timeUnixNano: bigint;
  value: number;
  spanId: string;
  traceId: string;
}
export interface DecodedHistogramPoint {
  attributes: Record<string, string>;
  count: number;
  exemplars: DecodedExemplar[];
}

/** The fixed64 fields `n` of a message, as unsigned 64-bit integers (rawFields reads wire type 1 as a double). */
function fixed64(buf: Buffer, n: number): bigint[] {
  return rawFields(buf, n).map((v) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v as number);
    return b.readBigUInt64LE();
  });
}

/**
 * The points of histogram `name` in an ExportMetricsServiceRequest: metric (name 1, histogram 9) >
 * HistogramDataPoint (1): count (4, fixed64), exemplars (8), attributes (9); Exemplar: time_unix_nano (2),
 * as_double (3), span_id (4), trace_id (5).
 */
export function protobufHistogramPoints(body: Buffer, name: string): DecodedHistogramPoint[] {
  const metrics = fields(body, 1).flatMap((rm) => fields(rm, 2).flatMap((sm) => fields(sm, 2)));
  const metric = metrics.find((m) => fields(m, 1)[0]!.toString('utf8') === name);
  if (!metric) return [];
  return fields(fields(metric, 9)[0]!, 1).map((p) => {
    const attributes: Record<string, string> = {};
    for (const kv of fields(p, 9)) {
      const str = fields(fields(kv, 2)[0] ?? Buffer.alloc(0), 1)[0];
      if (str) attributes[fields(kv, 1)[0]!.toString('utf8')] = str.toString('utf8');
    }
    const exemplars = fields(p, 8).map((e) => ({
      timeUnixNano: fixed64(e, 2)[0]!,
      value: rawFields(e, 3)[0] as number,
      spanId: fields(e, 4)[0]!.toString('hex'),
      traceId: fields(e, 5)[0]!.toString('hex'),
    }));
    return { attributes, count: Number(fixed64(p, 4)[0]), exemplars };
  });
}

/** The part of @grpc/grpc-js (not a dependency of core: the gRPC exporter's) this receiver uses. */
interface GrpcJs {
  Server: new () => {
    addService(service: object, handlers: object): void;
    bindAsync(address: string, credentials: unknown, cb: (err: Error | null, port: number) => void): void;
    tryShutdown(cb: () => void): void;
  };
  ServerCredentials: { createInsecure(): unknown };
}

/**
 * A local OTLP/gRPC metrics receiver with @grpc/grpc-js (the copy the gRPC exporter itself uses): keeps each
 * ExportMetricsServiceRequest as raw protobuf and answers an empty ExportMetricsServiceResponse.
 */
export async function grpcReceiver(): Promise<{ url: string; next(): Promise<Buffer>; close(): Promise<void> }> {
  const fromExporter = createRequire(
    createRequire(import.meta.url).resolve('@opentelemetry/exporter-metrics-otlp-grpc'),
  );
  const grpc = createRequire(fromExporter.resolve('@opentelemetry/otlp-grpc-exporter-base'))('@grpc/grpc-js') as GrpcJs;
  const waiters: ((b: Buffer) => void)[] = [];
  const raw = (b: Buffer) => b;
  const server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      Export: (call: { request: Buffer }, cb: (err: null, res: Buffer) => void) => {
        waiters.splice(0).forEach((w) => w(call.request));
        cb(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    next: () => within(new Promise<Buffer>((r) => waiters.push(r)), 'an OTLP/gRPC export at the receiver'),
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
