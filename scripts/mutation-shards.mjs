// The scope of `npm run mutate` (scripts/mutate.mjs), cut into shards that run as separate Stryker runs, several at
// a time. Each shard mutates a few files and runs only the test files that exercise them: Stryker runs every test of
// the shard once first (the dry run), and each "static" mutant (code that runs while a test file loads or in a
// `before` hook: start-up, config parsing) reruns all of them, so a narrow spec is what keeps a shard short. A test
// file left out of a shard cannot kill its mutants: when a survivor looks killable, check whether a test that would
// kill it exists outside the spec before writing a new one, and add that file here.

const CORE = 'packages/core/test';
const core = (...files) => files.map((f) => `${CORE}/${f}.test.ts`);

/** @type {{ name: string, mutate: string[], spec: string[] }[]} */
export const shards = [
  {
    name: 'core-store',
    mutate: ['packages/core/src/store.ts'],
    spec: core('store-survivors', 'store-remove', 'conformance', 'hot-paths', 'format', 'serialize-survivors', 'label-bound', 'polling'),
  },
  {
    name: 'core-cluster',
    mutate: ['packages/core/src/cluster/**/*.ts'],
    spec: core('cluster-protocol', 'cluster', 'cluster-prometheus', 'cluster-pm2'),
  },
  {
    name: 'core-endpoint',
    mutate: ['packages/core/src/prometheus/auth.ts', 'packages/core/src/prometheus/endpoint.ts'],
    spec: core('endpoint', 'endpoint-auth-gzip', 'endpoint-limits', 'openmetrics', 'running'),
  },
  {
    name: 'core-serialize',
    mutate: ['packages/core/src/prometheus/format.ts', 'packages/core/src/prometheus/serialize.ts'],
    spec: core('format', 'serialize-survivors', 'conformance', 'openmetrics', 'exemplars', 'hostile-input', 'bad-input', 'endpoint'),
  },
  {
    name: 'core-labels',
    mutate: ['packages/core/src/labels/**/*.ts', 'packages/core/src/exemplars.ts'],
    spec: core('label-bound', 'third-party-labels', 'hostile-input', 'bad-input', 'exemplars', 'otlp-exemplars', 'conformance'),
  },
  {
    name: 'core-otel',
    mutate: ['packages/core/src/otel/**/*.ts'],
    spec: core('views', 'temporality', 'resource', 'traces', 'otlp-exemplars', 'third-party', 'third-party-labels', 'exporters', 'nodesdk'),
  },
  {
    name: 'core-config',
    mutate: ['packages/core/src/config.ts'],
    spec: core('config', 'bad-input', 'exporters', 'resource', 'traces', 'running'),
  },
  {
    name: 'core-instrumentations',
    mutate: ['packages/core/src/instrumentations/**/*.ts'],
    spec: core('instrumentations', 'register-instrumentations', 'register'),
  },
  {
    name: 'http',
    mutate: ['packages/http/src/server/instrumentation.ts', 'packages/http/src/server/routes.ts'],
    spec: ['packages/http/test/server-instrumentation.test.ts', 'packages/http/test/http-server.test.ts', 'packages/http/test/stock-interop.test.ts'],
  },
  {
    name: 'storage',
    mutate: ['packages/storage/src/instrumentation.ts', 'packages/storage/src/instrument.ts'],
    spec: ['packages/storage/test/instrumentation.test.ts', 'packages/storage/test/instrumentation-instances.test.ts', 'packages/storage/test/instrument.test.ts'],
  },
  {
    name: 'db',
    mutate: ['packages/db/src/instrumentation.ts', 'packages/db/src/patch.ts'],
    spec: ['packages/db/test/instrumentation.test.ts', 'packages/db/test/instrumentation-instances.test.ts', 'packages/db/test/stock-interop.test.ts'],
  },
];
