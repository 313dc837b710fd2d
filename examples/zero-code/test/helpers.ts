// What the zero-code suites share: running an app under a preload, scraping it, the services it talks to, the
// environment that turns its traces on, and the readings of a scrape that every suite asks.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { catalog } from '@tuist-telemetry/core/internal';
import {
  newListeningPort,
  samples,
  scrape,
  startPostgres,
  startS3Server,
  type Exposition,
  type Postgres,
  type S3Server,
} from '@tuist-telemetry/testing';

export * from './signal-run.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The Bun or Deno binary from the per-user cache (npm packages, downloaded once like the Node lines). */
export async function runtimeBinary(name: 'bun' | 'deno'): Promise<string> {
  const lines = (await import(pathToFileURL(path.join(root, 'scripts', 'node-lines.mjs')).href)) as {
    runtimeBinary(name: string): Promise<string>;
  };
  return lines.runtimeBinary(name);
}

/**
 * Runs one app with `--import @tuist-telemetry/core/register` (or the preload `args` given) and nothing else;
 * resolves once it said READY. `command` is the runtime's binary (this Node by default; Bun or Deno with their own
 * preload `args`).
 */
export function runApp(
  entry: string,
  env: Record<string, string>,
  args = ['--import', '@tuist-telemetry/core/register'],
  command = process.execPath,
) {
  // Plain node on the built packages, as a user runs it (no tsx, no source condition).
  const child = spawn(command, [...args, entry], {
    cwd: dir,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`${entry} exited before READY:\n${out}`)));
  });
  return {
    ready,
    /**
     * The port of /metrics, for an app started with OTEL_EXPORTER_PROMETHEUS_PORT=0: the one port it listens on
     * besides those of the URLs in its READY line (the app knows nothing of telemetry, so it cannot print it).
     */
    metricsPort: async (): Promise<number> => {
      const known = [...(await ready).matchAll(/:\/\/[^:/"]+:(\d+)/g)].map((m) => Number(m[1]));
      return newListeningPort(child.pid!, known);
    },
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Runs one app as runApp does with its /metrics on a port of its own (OTEL_EXPORTER_PROMETHEUS_PORT=0), scrapes it
 * once it said READY, and stops it: the scrape, everything the app printed, and the text of its READY line.
 */
export async function scrapeApp(
  entry: string,
  env: Record<string, string>,
  args?: string[],
  command?: string,
): Promise<{ exp: Exposition; output: string; ready: string }> {
  const app = runApp(
    entry,
    { OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', ...env },
    args,
    command,
  );
  try {
    const ready = await app.ready;
    const exp = await scrape(`http://127.0.0.1:${await app.metricsPort()}/metrics`);
    return { exp, output: app.output(), ready };
  } finally {
    await app.stop();
  }
}

/** PostgreSQL and an S3 server for the apps (each suite its own, started together). */
export async function startServices(): Promise<{ postgres: Postgres; s3: S3Server; stop(): Promise<void> }> {
  const [postgres, s3] = await Promise.all([
    startPostgres({ from: import.meta.url }),
    startS3Server({ from: import.meta.url }),
  ]);
  return { postgres, s3, stop: async () => void (await Promise.all([postgres.stop(), s3.stop()])) };
}

/** The environment that sends an app's spans to a local OTLP/JSON trace receiver, a batch every 100 ms. */
export const otlpTracesEnv = (url: string): Record<string, string> => ({
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

/** OTLP span kinds. */
export const SERVER = 2;
export const CLIENT = 3;

/** The catalog's metric names of a family (`database`, `http`, `http_server`, …). */
export const families = (family: string): string[] => catalog.filter((d) => d.family === family).map((d) => d.name);

/** Whether the scrape has samples of `name` (a counter or gauge) or of `name_count` (a histogram). */
export const has = (exp: Exposition, name: string): boolean =>
  samples(exp, name).length + samples(exp, `${name}_count`).length > 0;
