import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/** A local stand-in for an OTLP/HTTP receiver (an OpenTelemetry Collector): answers 200 and keeps every body. */
export async function otlpReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void>; next(): Promise<Received> }> {
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
      res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    next: () => new Promise((r) => waiters.push(r)),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface JsonAttr {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
export interface JsonMetric {
  name: string;
  sum?: { aggregationTemporality?: number; dataPoints: { asDouble?: number; asInt?: string | number; attributes?: JsonAttr[] }[] };
  histogram?: { aggregationTemporality?: number; dataPoints: { count: string | number; sum?: number; attributes?: JsonAttr[] }[] };
}
export interface JsonExport {
  resourceMetrics: { resource: { attributes: JsonAttr[] }; scopeMetrics: { scope?: { name: string }; metrics: JsonMetric[] }[] }[];
}

/** Every metric of an OTLP/JSON export, by name. */
export function jsonMetrics(body: Buffer): Map<string, JsonMetric> {
  const doc = JSON.parse(body.toString('utf8')) as JsonExport;
  const out = new Map<string, JsonMetric>();
  for (const rm of doc.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}
