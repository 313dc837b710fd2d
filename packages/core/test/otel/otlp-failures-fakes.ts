import { expect } from 'chai';
import type { DiagLogger } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { RateLimitedLogger } from '../../src/diag/index.js';
import { OtlpFailures, type OtlpTarget } from '../../src/otel/otlp-failures.js';

/*
 * The scripted parts of the in-process OtlpFailures tests (otlp-failures-unit.test.ts and
 * otlp-failures-exports.test.ts): a transport and an exporter that answer what a test tells them, and an
 * OtlpFailures whose lines are kept. Not a spec file itself.
 */

export type SendResult = { status: 'success' | 'failure' | 'retryable'; error?: unknown; retryInMillis?: number };

export const METRICS: OtlpTarget = {
  signal: 'metrics',
  url: 'http://collector:4318/v1/metrics',
  protocol: 'http/protobuf',
  urlFrom: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  protocolFrom: 'OTEL_EXPORTER_OTLP_PROTOCOL',
};

/** OtlpFailures with a real RateLimitedLogger over a logger that keeps each error line. */
export function failures(target: Partial<OtlpTarget> = {}, budgetMs = 10_000) {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  const log: DiagLogger = { error: keep, warn: keep, info: () => {}, debug: () => {}, verbose: () => {} };
  const f = new OtlpFailures({ ...METRICS, ...target }, budgetMs, new RateLimitedLogger(log));
  return { f, lines };
}

/** A transport whose attempts answer `answers` in turn (the last one again when they run out). */
export function scripted(...answers: SendResult[]) {
  const timeouts: number[] = [];
  let shutdowns = 0;
  return {
    timeouts,
    shutdowns: () => shutdowns,
    send: async (_data: Uint8Array, timeoutMillis: number) => {
      timeouts.push(timeoutMillis);
      return answers[Math.min(timeouts.length - 1, answers.length - 1)]!;
    },
    shutdown: () => void shutdowns++,
  };
}

/** The failure text of one attempt that answered `error` (what follows "failed: " up to the URL's sentence). */
export async function reasonOf(error: unknown, budgetMs = 10_000): Promise<string> {
  const { f, lines } = failures({}, budgetMs);
  await f.transport(scripted({ status: 'failure', error })).send(new Uint8Array(1), 3000);
  expect(lines, 'one line').to.have.length(1);
  const m = /failed: (.*?)\.? The URL is/.exec(lines[0]!);
  expect(m, lines[0]).to.not.equal(null);
  return m![1]!;
}

export const withCode = (code: unknown, message = 'boom') => Object.assign(new Error(message), { code });
export const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An exporter whose export calls back with `answer` (or never, when undefined), or throws `throws`. */
export function exporter(answer?: ExportResult, throws?: unknown) {
  const calls = { shutdown: 0, forceFlush: 0, exports: 0 };
  let late: ((r: ExportResult) => void) | undefined;
  return {
    calls,
    late: (r: ExportResult) => late?.(r),
    export(_items: never, done: (r: ExportResult) => void) {
      calls.exports++;
      if (throws !== undefined) throw throws;
      if (answer) done(answer);
      else late = done;
    },
    forceFlush: () => {
      calls.forceFlush++;
      return Promise.resolve();
    },
    shutdown: () => {
      calls.shutdown++;
      return Promise.resolve();
    },
  };
}

export const exportOnce = (e: { export(items: never, done: (r: ExportResult) => void): void }) =>
  new Promise<ExportResult[]>((resolve) => {
    const results: ExportResult[] = [];
    e.export(undefined as never, (r) => {
      results.push(r);
      setTimeout(() => resolve(results), 20);
    });
  });
