import type { DiagLogger } from '@opentelemetry/api';
import { TelemetryConfigError, type TelemetryOptions } from './config.js';
import { describeError } from './diag.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

/** Traces off, whatever the environment says about them (every traces setting given, so none is read). */
const TRACES_OFF: TelemetryOptions = { traces: { exporter: 'none', sampler: 'parentbased_always_on', protocol: 'http/protobuf' } };

/** The longest quoted value an error line echoes; longer ones are cut to this many characters and `…`. */
export const MAX_ECHO = 200;

const LONG_QUOTED = new RegExp(`"((?:[^"\\\\]|\\\\.){${MAX_ECHO}})(?:[^"\\\\]|\\\\.)+"`, 'g');

/**
 * A message with every double-quoted value longer than `MAX_ECHO` characters cut (a 10 KB variable must not become
 * a 10 KB log line), on one line.
 */
export function capEcho(message: string): string {
  return message
    .replace(LONG_QUOTED, (_, head: string) => `"${head}…"`)
    .replace(/[\r\n]+/g, ' ');
}

/**
 * `startTelemetry()` for a preload, which must never stop the app: a configuration mistake is reported as one line
 * and the part it concerns stays off. When starting again with traces off succeeds, the mistake was in the traces
 * settings (`OTEL_TRACES_EXPORTER=bogus`, or `otlp` without its exporter package) and metrics run; otherwise
 * telemetry stays off. Any other failure also leaves telemetry off with one line. `startTelemetry()` called from
 * code still throws.
 */
export function startFromEnvironment(log: DiagLogger): Telemetry | undefined {
  try {
    return startTelemetry();
  } catch (err) {
    const what = capEcho(describeError(err));
    if (err instanceof TelemetryConfigError) {
      let t: Telemetry | undefined;
      try {
        t = startTelemetry(TRACES_OFF);
      } catch {
        /* not (only) a traces mistake: reported below */
      }
      if (t) {
        log.error(`${what}; traces stay off, metrics run and so does the app`);
        return t;
      }
      log.error(`${what}; telemetry stays off and the app runs without it`);
      return undefined;
    }
    log.error(`telemetry could not start (${what}); the app runs without it`);
    return undefined;
  }
}
