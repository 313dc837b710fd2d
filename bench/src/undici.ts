import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Agent, getGlobalDispatcher, request, type Dispatcher } from 'undici';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { pinned } from './cpus.js';
import { nowNs } from './utils.js';

export type UndiciImpl = 'plain' | 'instrumented' | 'instrumentation' | 'stock-instr';

interface Enableable {
  disable(): void;
  setMeterProvider(provider: unknown): void;
}

type CreateInstrumentedAgent = (options: { connections?: number; telemetry?: Telemetry }) => Dispatcher;

/** `createInstrumentedAgent` once `@tuist-telemetry/http` exports it (imported by a variable: it may not exist yet). */
export async function loadInstrumentedAgent(): Promise<CreateInstrumentedAgent | undefined> {
  const spec = '@tuist-telemetry/http';
  try {
    const m = (await import(spec)) as { createInstrumentedAgent?: CreateInstrumentedAgent };
    return typeof m.createInstrumentedAgent === 'function' ? m.createInstrumentedAgent : undefined;
  } catch {
    return undefined;
  }
}

/** The keep-alive server of case 4 in its own process (`upstream.mjs`); `stop` ends it. */
export async function startUpstream(): Promise<{ url: string; stop: () => void }> {
  const [command, args] = pinned('server', process.execPath, [
    fileURLToPath(new URL('./upstream.mjs', import.meta.url)),
  ]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  return { url: `http://127.0.0.1:${port}/artifact`, stop: () => child.stdin!.end() };
}

/** `total` requests, `concurrency` in flight, each body read to the end. */
async function drive(url: string, dispatcher: Dispatcher, total: number, concurrency: number): Promise<void> {
  let left = total;
  const worker = async () => {
    while (left-- > 0) {
      const res = await request(url, { dispatcher });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`upstream answered ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A warmed-up client of one implementation: `block(n)` measures n more requests. */
export interface Driver {
  block(n: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * Case 4: requests per second through a keep-alive Agent against a local server, with and without the SDK's
 * undici instrumentation. Telemetry runs in both variants: only the instrumentation differs. Warmed up with
 * `warmup` requests.
 */
export async function openUndici(impl: UndiciImpl, concurrency: number, warmup: number): Promise<Driver> {
  // In interleaved rounds every implementation's process talks to the one server of the round (rounds.ts).
  const shared = process.env.BENCH_UPSTREAM_URL;
  const upstream = shared ? { url: shared, stop: () => {} } : await startUpstream();
  const t = startTelemetry({
    prometheus: { port: 0, host: '127.0.0.1' },
    runtimeMetrics: false,
    setGlobalMeterProvider: false,
  });
  let agent: Dispatcher;
  let instrumentation: Enableable | undefined;
  if (impl === 'instrumented') {
    const create = await loadInstrumentedAgent();
    if (!create) throw new Error('@tuist-telemetry/http does not export createInstrumentedAgent yet');
    agent = create({ connections: concurrency, telemetry: t });
  } else if (impl === 'instrumentation') {
    // The zero-code path: TuistUndiciInstrumentation installs its agent as the global dispatcher.
    const { TuistUndiciInstrumentation } = await import('@tuist-telemetry/http');
    instrumentation = new TuistUndiciInstrumentation({ connections: concurrency, telemetry: t });
    agent = getGlobalDispatcher();
  } else if (impl === 'stock-instr') {
    // @opentelemetry/instrumentation-undici with its metrics on (http.client.request.duration on the telemetry's
    // MeterProvider), no TracerProvider: what it costs as a metrics source.
    const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
    const stock = new UndiciInstrumentation();
    stock.setMeterProvider(t.meterProvider);
    instrumentation = stock;
    agent = new Agent({ connections: concurrency });
  } else {
    agent = new Agent({ connections: concurrency });
  }
  const close = async () => {
    instrumentation?.disable();
    await agent.close();
    await t.shutdown();
    upstream.stop();
  };
  try {
    await drive(upstream.url, agent, warmup, concurrency);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async block(requests) {
      const t0 = nowNs();
      const cpu0 = process.cpuUsage();
      await drive(upstream.url, agent, requests, concurrency);
      const cpu = process.cpuUsage(cpu0);
      // Client CPU per request: the instrumentation's cost without the server's share of the 2 cores.
      return { rps: requests / ((nowNs() - t0) / 1e9), cpuUs: (cpu.user + cpu.system) / requests };
    },
    close,
  };
}

/** Case 4 in one go (the smoke run): a tenth of `requests` as warm-up, then `requests` timed. */
export async function undiciCase(
  impl: UndiciImpl,
  requests: number,
  concurrency: number,
): Promise<Record<string, number>> {
  const d = await openUndici(impl, concurrency, Math.ceil(requests / 10));
  try {
    return await d.block(requests);
  } finally {
    await d.close();
  }
}
