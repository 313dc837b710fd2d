/** Command-line flags and environment variables of the demo. Flags win over the environment. */
export interface DemoOptions {
  /** Interface the app and (unless OTEL_EXPORTER_PROMETHEUS_HOST says otherwise) /metrics listen on. */
  host: string;
  /** App port (`--port`, `PORT`); default 8080. 0 picks a free port. */
  port: number;
  /** Prometheus endpoint port (`--metrics-port`, `OTEL_EXPORTER_PROMETHEUS_PORT`); default 9091. */
  metricsPort: number | undefined;
  /** The built-in load generator (`--no-load` turns it off). */
  load: boolean;
  /** Pause between load iterations, per worker (`--load-interval-ms`, `DEMO_LOAD_INTERVAL_MS`); default 200. */
  loadIntervalMs: number;
  /** An S3-compatible endpoint (`S3_ENDPOINT`); unset starts a local S3 server (s3rver). */
  s3Endpoint: string | undefined;
  s3Bucket: string;
  s3Region: string;
  /** A PostgreSQL URL (`DATABASE_URL`); unset starts a throwaway embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /** Where previews notify (outgoing HTTP through fetch); default the demo's own /webhooks/previews. */
  webhookUrl: string | undefined;
}

export class DemoOptionsError extends Error {
  override name = 'DemoOptionsError';
}

export const USAGE = `Usage: npm run demo -- [options]

  --port <n>              app port (env PORT, default 8080; 0 = any free port)
  --metrics-port <n>      /metrics port (env OTEL_EXPORTER_PROMETHEUS_PORT, default 9091)
  --host <addr>           interface to listen on (env HOST, default 127.0.0.1)
  --no-load               do not start the built-in load generator
  --load-interval-ms <n>  pause between load iterations (env DEMO_LOAD_INTERVAL_MS, default 200)
  --help                  this text

Environment: S3_ENDPOINT, S3_BUCKET, S3_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (unset S3_ENDPOINT starts a
local S3 server); DATABASE_URL (unset starts a throwaway PostgreSQL); TUIST_POSTHOG_API_KEY + TUIST_POSTHOG_URL
(both set: server-side analytics); OTEL_METRICS_EXPORTER (prometheus, otlp, console, none) and the other OTEL_*
variables; WEBHOOK_URL.

Traces: OTEL_TRACES_EXPORTER=otlp (or console; default none) traces the demo's HTTP requests, pg queries, jobs and
load iterations (stock http, undici and pg instrumentations), sends the spans to OTEL_EXPORTER_OTLP_ENDPOINT
(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: http/protobuf by default, http/json, grpc), and every latency histogram keeps
a sampled span as its exemplar on /metrics (Prometheus: --enable-feature=exemplar-storage).`;

function port(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > 65535)
    throw new DemoOptionsError(`${name} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function positive(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
    throw new DemoOptionsError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const set = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

/** Parses `argv` (without node and the script) and `env`. Returns `undefined` when `--help` was asked. */
export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DemoOptions | undefined {
  const o: DemoOptions = {
    host: set(env.HOST) ?? '127.0.0.1',
    port: set(env.PORT) ? port('PORT', env.PORT!) : 8080,
    metricsPort: set(env.OTEL_EXPORTER_PROMETHEUS_PORT)
      ? port('OTEL_EXPORTER_PROMETHEUS_PORT', env.OTEL_EXPORTER_PROMETHEUS_PORT!)
      : undefined,
    load: true,
    loadIntervalMs: set(env.DEMO_LOAD_INTERVAL_MS)
      ? positive('DEMO_LOAD_INTERVAL_MS', env.DEMO_LOAD_INTERVAL_MS!)
      : 200,
    s3Endpoint: set(env.S3_ENDPOINT),
    s3Bucket: set(env.S3_BUCKET) ?? 'tuist',
    s3Region: set(env.S3_REGION) ?? set(env.AWS_REGION) ?? 'us-east-1',
    databaseUrl: set(env.DATABASE_URL),
    webhookUrl: set(env.WEBHOOK_URL),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const next = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new DemoOptionsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return undefined;
      case '--port':
        o.port = port('--port', next());
        break;
      case '--metrics-port':
        o.metricsPort = port('--metrics-port', next());
        break;
      case '--host':
        o.host = next();
        break;
      case '--no-load':
        o.load = false;
        break;
      case '--load':
        o.load = true;
        break;
      case '--load-interval-ms':
        o.loadIntervalMs = positive('--load-interval-ms', next());
        break;
      default:
        throw new DemoOptionsError(`unknown option ${JSON.stringify(arg)}\n\n${USAGE}`);
    }
  }
  return o;
}
