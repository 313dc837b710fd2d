import type { DiagLogger } from '@opentelemetry/api';
import { TelemetryConfigError, type TelemetryOptions } from '../config/index.js';
import { describeError } from '../diag/index.js';
import { readQuietly } from '../settings/table.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

/** Traces off, whatever the environment says about them (every traces setting given, so none is read). */
const TRACES_OFF: TelemetryOptions = {
  traces: { exporter: 'none', sampler: 'parentbased_always_on', protocol: 'http/protobuf' },
};

/** The longest quoted value an error line echoes; longer ones are cut to this many characters and `…`. */
export const MAX_ECHO = 200;

const LONG_QUOTED = new RegExp(`"((?:[^"\\\\]|\\\\.){${MAX_ECHO}})(?:[^"\\\\]|\\\\.)+"`, 'g');

/**
 * A message with every double-quoted value longer than `MAX_ECHO` characters cut (a 10 KB variable must not become
 * a 10 KB log line), on one line.
 */
export function capEcho(message: string): string {
  return message.replace(LONG_QUOTED, (_, head: string) => `"${head}…"`).replace(/[\r\n]+/g, ' ');
}

/** `OTEL_METRICS_EXPORTER`'s names as written (none when it cannot be read: the first start reported why). */
function exporterNames(env: NodeJS.ProcessEnv): string[] {
  return (readQuietly('exporters', env).value ?? '').split(',').map((s) => s.trim().toLowerCase());
}

/**
 * The smaller starts tried after a configuration mistake, in order, and what each leaves off: traces alone, then
 * the push exporters when `OTEL_METRICS_EXPORTER` also names `prometheus` (the endpoint keeps serving), then both.
 */
function fallbacks(env: NodeJS.ProcessEnv): [TelemetryOptions, string][] {
  const out: [TelemetryOptions, string][] = [[TRACES_OFF, 'traces stay off; metrics run']];
  const metricsExporters = exporterNames(env);
  if (metricsExporters.includes('prometheus') && metricsExporters.some((e) => e !== 'prometheus' && e !== '')) {
    out.push(
      [{ exporters: ['prometheus'] }, 'metrics are served on the Prometheus endpoint only (no push exporter)'],
      [
        { ...TRACES_OFF, exporters: ['prometheus'] },
        'metrics are served on the Prometheus endpoint only (no push exporter) and traces stay off',
      ],
    );
  }
  return out;
}

/**
 * `startTelemetry()` for a preload, which must never stop the app: a configuration mistake is reported as one line
 * (the first mistake, its echoed values cut by `capEcho`) and the part it concerns stays off. The first of the
 * `fallbacks` that starts says which part that was: traces (`OTEL_TRACES_EXPORTER=bogus`, or `otlp` without its
 * exporter package), or a push exporter next to `prometheus`. When none starts, telemetry stays off. Any other
 * failure also leaves telemetry off with one line. `startTelemetry()` called from code still throws.
 */
export function startFromEnvironment(log: DiagLogger): Telemetry | undefined {
  try {
    return startTelemetry();
  } catch (err) {
    const what = capEcho(describeError(err));
    if (!(err instanceof TelemetryConfigError)) {
      log.error(`telemetry could not start (${what}); the app runs without it`);
      return undefined;
    }
    for (const [options, off] of fallbacks(process.env)) {
      let t: Telemetry | undefined;
      try {
        t = startTelemetry(options);
      } catch {
        continue; // not (only) that part: try the next, else reported below
      }
      log.error(`${what}; ${off}, and the app runs`);
      return t;
    }
    log.error(`${what}; telemetry stays off and the app runs without it`);
    return undefined;
  }
}
