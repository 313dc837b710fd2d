// What `npm test` runs on the other Node lines (22, 24 and 26 by default, see scripts/test.mjs): core, the zero-code
// apps, the NodeSDK apps and the end-to-end Prometheus test. Add a suite here when it exercises what differs
// between Node lines (loader hooks, diagnostics channels, the OpenTelemetry line a user on that Node would run).
export const OTEL3_SPECS = ['examples/otel3-app/test/**/*.test.ts'];

export const lineSpecs = [
  // core, with its NodeSDK app (nodesdk.test.ts) and its zero-code tests
  'packages/core/test/**/*.test.ts',
  'examples/zero-code/test/**/*.test.ts',
  'examples/tuist-server/test/prometheus.test.ts',
  // the demo with traces on: its loader hook (module.register or registerHooks) and the stock instrumentations
  'examples/tuist-server/test/exemplars.test.ts',
  ...OTEL3_SPECS,
];

/**
 * Node 26 (in the default matrix) runs only what its line changes for this SDK: `module.register()` is deprecated
 * there (DEP0205), so the zero-code start must take the synchronous hooks and print no warning. These suites assert
 * that (no output besides READY; no DeprecationWarning) and that ES modules are still patched. Cheap (about 15 s,
 * in parallel with the other lines); the wider `lineSpecs` on 26: `node <26 bin> node_modules/mocha/bin/mocha.js …`.
 */
export const NODE26_SPECS = [
  'packages/core/test/register/register.test.ts',
  'packages/core/test/register/register-instrumentations.test.ts',
  'packages/core/test/register/register-config.test.ts',
  'examples/zero-code/test/zero-code.test.ts',
];

/**
 * The suites that run Bun and Deno (the zero-code apps; the README's startTelemetry() snippet), from the per-user cache
 * (scripts/node-lines.mjs): on the machine's Node only,
 * never again on each matrix line (`lineSpecs` matches them through the zero-code glob).
 */
export const RUNTIME_SPECS = [
  'examples/zero-code/test/runtimes.test.ts',
  'examples/zero-code/test/signals-runtimes.test.ts',
  'scripts/checks/readme-snippets.test.ts',
];

/** The suites a matrix line runs. */
export function specsForLine(major) {
  return Number(major) >= 26 ? NODE26_SPECS : lineSpecs;
}

/** OpenTelemetry JS 3.x needs Node >= 22.15; its app runs only on lines that have it. */
export function supportsOtel3(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 15);
}
