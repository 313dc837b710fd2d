import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger } from '../diag/index.js';
import { appDirectories, requireFrom } from '../instrumentations/load.js';

/** The Node.js lines every package supports (their `engines`). */
export const SUPPORTED_NODE = '^20.20.0 || >=22.22.0';
/** The OpenTelemetry JS lines, as the `@opentelemetry/sdk-metrics` version the app runs. */
export const SUPPORTED_OTEL = '2.x from 2.12 (Node 20, 22, 24) or 3.x from 3.1 (Node 22.22 and later)';

const parse = (version: string): [number, number] => {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return [major, minor];
};

export function nodeSupported(version: string): boolean {
  const [major, minor] = parse(version);
  return (major === 20 && minor >= 20) || (major === 22 && minor >= 22) || major > 22;
}

/**
 * What is wrong with running on Node `node` with `@opentelemetry/sdk-metrics` `sdkMetrics` (undefined when the app
 * has none of its own: core's then serves, which is always supported). Empty when the combination is supported.
 */
export function supportProblems(node: string, sdkMetrics: string | undefined, api?: ApiCopies): string[] {
  const problems: string[] = [];
  if (api && !api.host && api.app && api.core) {
    const [appMajor, appMinor] = parse(api.app);
    const [coreMajor, coreMinor] = parse(api.core);
    // The API reads globals registered by the same or a newer minor only: the app's newer copy sees none of core's.
    if (appMajor === coreMajor && appMinor > coreMinor) {
      problems.push(
        `the app's @opentelemetry/api ${api.app} is newer than the one core registers its MeterProvider with (${api.core}), so the app's own ` +
          'instruments would be no-ops; with OpenTelemetry JS 3.x use new NodeSDK({ metricReaders: [createMetricReader()] }) instead of startTelemetry()',
      );
    }
  }
  if (!nodeSupported(node)) problems.push(`Node.js ${node} is not a supported line (supported: ${SUPPORTED_NODE})`);
  if (sdkMetrics !== undefined) {
    const [major, minor] = parse(sdkMetrics);
    const otel2 = major === 2 && minor >= 12;
    const otel3 = major === 3 && minor >= 1;
    if (!otel2 && !otel3) {
      problems.push(
        `@opentelemetry/sdk-metrics ${sdkMetrics} is not a supported OpenTelemetry JS line (supported: ${SUPPORTED_OTEL})`,
      );
    } else if (otel3 && nodeSupported(node) && parse(node)[0] < 22) {
      problems.push(
        `OpenTelemetry JS ${sdkMetrics} does not run on Node.js ${node}; use Node.js 22.22 or later, or the 2.x line`,
      );
    }
  }
  return problems;
}

/** The `@opentelemetry/api` versions of the app and of core, and whether the host's MeterProvider (NodeSDK) serves. */
export interface ApiCopies {
  app?: string;
  core?: string;
  host: boolean;
}

/** The `@opentelemetry/api` versions the app and core resolve (they can differ: see `supportProblems`). */
export function apiCopies(host: boolean, dirs: readonly string[] = appDirectories()): ApiCopies {
  return {
    host,
    app: versionFrom(dirs, '@opentelemetry/api'),
    core: versionFrom([path.dirname(fileURLToPath(import.meta.url))], '@opentelemetry/api'),
  };
}

/** The version of `@opentelemetry/sdk-metrics` the app resolves (where NodeSDK's MeterProvider comes from), if any. */
export function appSdkMetricsVersion(dirs: readonly string[] = appDirectories()): string | undefined {
  return versionFrom(dirs, '@opentelemetry/sdk-metrics');
}

function versionFrom(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    let file: string;
    try {
      file = realpathSync(requireFrom(dir).resolve(name));
    } catch {
      continue;
    }
    for (let d = path.dirname(file); d !== path.dirname(d); d = path.dirname(d)) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name) return pkg.version;
      } catch {
        /* no package.json here */
      }
    }
  }
  return undefined;
}

let said = false;

/** What `checkSupport` looks at and where it says it; each part defaults to the running process's. */
export interface SupportProbe {
  /** The Node.js version; default `process.versions.node`. */
  node?: string;
  /** The app's `@opentelemetry/sdk-metrics` version (undefined: none of its own); default `appSdkMetricsVersion`. */
  sdkMetrics?: () => string | undefined;
  /** Where the message goes besides `diag`; default a Node.js warning with code `TUIST_TELEMETRY_UNSUPPORTED`. */
  emit?: (message: string) => void;
  /** The `@opentelemetry/api` copies of the app and core; default: not checked. */
  api?: () => ApiCopies | undefined;
}

/**
 * Says once per process, as a Node.js warning (printed to stderr by default) and through `diag`, that this start
 * runs on a Node.js or OpenTelemetry JS line the SDK does not support, instead of letting it fail somewhere deep.
 * Never throws. Returns the problems it found (said or not).
 */
export function checkSupport(probe: SupportProbe = {}): string[] {
  const {
    node = process.versions.node,
    sdkMetrics = appSdkMetricsVersion,
    emit = (m) => process.emitWarning(m, { code: 'TUIST_TELEMETRY_UNSUPPORTED' }),
    api = () => undefined,
  } = probe;
  let problems: string[] = [];
  try {
    problems = supportProblems(node, sdkMetrics(), api());
    if (problems.length && !said) {
      said = true;
      const message = `@tuist-telemetry: unsupported combination: ${problems.join('; ')}. Telemetry starts anyway; expect failures.`;
      logger('support').warn(message);
      emit(message);
    }
  } catch {
    /* a check must never stop the host */
  }
  return problems;
}

/** @internal tests: say it again. */
export function resetSupportCheck(): void {
  said = false;
}
