// What `npm test` runs on the other Node lines (22 and 24 by default, see scripts/test.mjs): core, the zero-code
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

/** OpenTelemetry JS 3.x needs Node >= 22.15; its app runs only on lines that have it. */
export function supportsOtel3(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 15);
}
