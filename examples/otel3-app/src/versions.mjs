// Which OpenTelemetry packages this app really runs, read from where Node resolves them (pnpm may hoist or dedupe,
// so the app's package.json alone proves nothing).
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function packageJsonOf(file, name) {
  for (let dir = path.dirname(realpathSync(file)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === name) return { version: pkg.version, dir };
    } catch {
      /* no package.json here */
    }
  }
  throw new Error(`no package.json of ${name} above ${file}`);
}

/** The version of `name` as resolved from `fromDir` (a folder), and the folder it lives in. */
export function resolved(name, fromDir) {
  const req = createRequire(path.join(fromDir, 'x.js'));
  return packageJsonOf(req.resolve(name), name);
}

/** The versions the app runs: its own OTel packages and the ones NodeSDK and the stock instrumentations use. */
export function runtimeVersions(appDir) {
  const sdkNode = resolved('@opentelemetry/sdk-node', appDir);
  const pg = resolved('@opentelemetry/instrumentation-pg', appDir);
  const undici = resolved('@opentelemetry/instrumentation-undici', appDir);
  return {
    node: process.versions.node,
    api: resolved('@opentelemetry/api', appDir).version,
    // The API core itself resolves (its 2.x SDK's peer range stops below 1.10, so it can be a second copy).
    apiOfCore: resolved('@opentelemetry/api', resolved('@tuist-telemetry/core', appDir).dir).version,
    sdkNode: sdkNode.version,
    sdkMetricsOfSdkNode: resolved('@opentelemetry/sdk-metrics', sdkNode.dir).version,
    sdkMetricsOfApp: resolved('@opentelemetry/sdk-metrics', appDir).version,
    instrumentationPg: pg.version,
    instrumentationOfPg: resolved('@opentelemetry/instrumentation', pg.dir).version,
    instrumentationUndici: undici.version,
  };
}
