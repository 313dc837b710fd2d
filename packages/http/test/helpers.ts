import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { samples, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';

export interface TestServer {
  readonly origin: string;
  readonly port: number;
  /** Requests the server has received so far. */
  readonly received: number;
  /** Resolves once the server has received `n` requests in total. */
  until(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Telemetry with its endpoint on 127.0.0.1, port 0, listening; no runtime metrics; `options` on top. */
export async function startReady(options: TelemetryOptions = {}): Promise<Telemetry> {
  const t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, ...options });
  await t.ready();
  return t;
}

/** A real node:http server on 127.0.0.1, port 0. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  let received = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    received++;
    for (const w of waiters.filter((w) => received >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    get received() {
      return received;
    },
    until: (n) => (received >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = await startServer(() => {});
  const port = s.port;
  await s.close();
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** The cumulative count of a histogram series at bucket `le` (a number, matched as Prometheus prints it). */
export function bucket(exp: Exposition, name: string, labels: Record<string, string>, le: number): number {
  const found = samples(exp, `${name}_bucket`, labels).filter((s) => Number(s.labels.le) === le);
  if (found.length !== 1)
    throw new Error(`expected one ${name}_bucket{le="${le}"} for ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}
