import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';

export * from './ingestion.js';

/** Telemetry on 127.0.0.1, port 0, without runtime metrics and without reading this process's environment. */
export function startLocal(): Telemetry {
  return startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, env: {} });
}

/** Collects diag warnings and errors while a test runs. */
export function collectDiag(): { messages: string[]; restore: () => void } {
  const messages: string[] = [];
  const push = (msg: string, ...args: unknown[]): void => {
    messages.push([msg, ...args.map(String)].join(' '));
  };
  const logger: DiagLogger = { error: push, warn: push, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { messages, restore: () => diag.disable() };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
  /** `Date.now()` when the exit was seen. */
  exitedAt: number;
}

export interface Child {
  /** Resolves with the first stdout line containing `text`. */
  waitForOutput(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<ChildResult>;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** tsx by file URL, so a child can run from any working directory (e.g. an empty temporary one). */
const TSX = import.meta.resolve('tsx');

/** Runs `test/fixtures/<name>` with tsx from source (`node --import tsx --conditions=source`). */
export function runFixture(name: string, env: Record<string, string>, cwd?: string): Child {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', TSX, '--conditions=source', FIXTURES + name], {
    cwd: cwd ?? FIXTURES,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<ChildResult>((resolve) =>
    child.on('exit', (code, signal) => {
      const exitedAt = Date.now();
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr, elapsedMs: exitedAt - started, exitedAt }));
    }),
  );
  return {
    exited,
    kill: (signal) => child.kill(signal),
    waitForOutput: (text) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!stdout.includes(text)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void exited.then((r) => reject(new Error(`child exited (${r.code}) before printing ${text}: ${r.stderr}`)));
      }),
  };
}
