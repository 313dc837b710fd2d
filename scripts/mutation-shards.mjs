// The scope of `npm run mutate` (scripts/mutate.mjs), cut into shards that run as separate Stryker runs, several at
// a time. Each shard mutates a few files and runs only the test files that exercise them in-process. Stryker runs
// every test of the shard once first (the dry run); a mutant is then tried against the tests that reached it, and a
// "static" one (code that runs while the first test file loads or in the first `before` hook) against all of them
// after a restart, so a shard's spec must stay fast: suites that mostly wait on child processes or on a real
// Prometheus are left out where faster in-process tests cover the same code. A test file left out cannot kill its
// shard's mutants: when a survivor looks killable, check whether a test outside the spec would kill it before
// writing a new one, and name new test files here.

const CORE = 'packages/core/test';
const core = (...files) => files.map((f) => `${CORE}/${f}.test.ts`);
/** The spec of core-otel-failures' two halves (the in-process OtlpFailures suites first: they kill most mutants). */
/** The OTel suites every otel shard runs after its own in-process suites (the views, exporters and OTLP paths end to end). */
const otelSuites = core(
  'otel/views',
  'otel/temporality',
  'otel/resource',
  'otel/traces',
  'otel/otlp-exemplars',
  'exposition/third-party',
  'labels/third-party-labels',
  'labels/third-party-bound',
  'otel/exporters',
  'otel/nodesdk',
  'otel/otlp-failures',
);
const otelFailuresSpec = [...core('otel/otlp-failures-unit', 'otel/otlp-failures-exports'), ...otelSuites];

/**
 * `minutes`: the shard's wall-clock time in the full timed run of 2026-12-07, 20:10 UTC (MUTATION.md: three shards
 * at a time on the shared 2-core machine under a load average of about 9); the longest start first. Correct them
 * from MUTATION.md's shard table after a full run.
 * `restartEvery`: a fresh test process after that many mutants, for the instrumentations: their mutants patch and
 * unpatch shared prototypes (http.Server, S3Client, pg-pool's Pool), and one that leaves a prototype broken made every
 * later mutant of the same process fail its tests, counted as killed.
 * `timeoutMS`: instead of stryker.config.json's, where a restarted test process starts PostgreSQL before the
 * mutant's tests (a partial db run with 5000 counted a quarter of its mutants as timed out). One PostgreSQL shared by
 * the restarted processes (TEST_DATABASE_URL) was tried on 2026-12-07 and dropped: db-patch then measured 38%, and
 * `swapPoolClass` emptied failed one db test by hand instead of the four it fails against a cluster of their own.
 * @type {{ name: string, minutes: number, restartEvery?: number, timeoutMS?: number, mutate: string[], spec: string[] }[]}
 */
export const shards = [
  {
    name: 'core-store',
    minutes: 4,
    mutate: [
      'packages/core/src/store/store.ts',
      'packages/core/src/store/families.ts',
      'packages/core/src/store/series-refs.ts',
    ],
    spec: core(
      'store/families-edges',
      'store/store',
      'store/series-refs',
      'exposition/conformance',
      'store/hot-paths',
      'exposition/format',
      'exposition/text',
      'labels/label-bound',
      'labels/series-bound',
      'store/polling',
    ),
  },
  {
    name: 'core-cluster-merge',
    minutes: 1,
    mutate: ['packages/core/src/cluster/view.ts', 'packages/core/src/cluster/protocol.ts'],
    spec: core('cluster/protocol', 'cluster/merge', 'cluster/snapshot-edges'),
  },
  {
    // In the test process: cluster/primary makes mocha the cluster primary (its forked workers' code is not counted),
    // cluster/worker-agent and worker-self run the agent on an in-process channel; cluster/cluster for clusterRole
    // (its app suite talks to child processes only). Mostly waiting: a mutant that stops an answer hangs a scrape
    // until Stryker's timeout (2026-12-07: primary.ts and index.ts 47 min, 91 of 281 mutants timed out; worker.ts 2).
    name: 'core-cluster-process',
    minutes: 30,
    mutate: [
      'packages/core/src/cluster/index.ts',
      'packages/core/src/cluster/primary.ts',
      'packages/core/src/cluster/worker.ts',
    ],
    spec: core(
      'cluster/protocol',
      'cluster/merge',
      'cluster/cluster',
      'cluster/worker-agent',
      'cluster/worker-self',
      'cluster/primary',
      'cluster/primary-edges',
    ),
  },
  {
    name: 'core-endpoint',
    minutes: 15,
    mutate: ['packages/core/src/prometheus/auth.ts', 'packages/core/src/prometheus/endpoint.ts'],
    spec: core(
      'endpoint/endpoint',
      'endpoint/responses',
      'endpoint/auth-edges',
      'endpoint/edges',
      'endpoint/running',
      'endpoint/gzip-deno',
      'endpoint/scrape-isolation',
      'exposition/escaping-endpoint',
      'endpoint/limits',
      'endpoint/auth-gzip',
    ),
  },
  {
    name: 'core-serialize',
    minutes: 10,
    mutate: ['packages/core/src/prometheus/format.ts', 'packages/core/src/prometheus/serialize.ts'],
    spec: core(
      'exposition/format',
      'exposition/text',
      'exposition/serialize-edges',
      'exposition/serialize-slices',
      'exposition/conformance',
      'store/store',
      'exposition/escaping',
      'exposition/openmetrics-strict',
      'exposition/openmetrics-created',
      'exposition/exemplars',
      'store/recording-input',
      'endpoint/endpoint',
      'endpoint/scrape-isolation',
      'exposition/escaping-endpoint',
      'exposition/protobuf',
      'store/hot-paths',
      'exposition/exemplar-validity',
    ),
  },
  {
    // The label policy, reached by every recording: every survivor runs the whole spec, so it holds only in-process
    // suites (no real Prometheus; the exemplar suites are core-exemplars').
    name: 'core-labels',
    minutes: 18,
    mutate: ['packages/core/src/labels/**/*.ts'],
    spec: core(
      'labels/values',
      'labels/attributes',
      'labels/label-bound',
      'labels/series-bound',
      'labels/third-party-labels',
      'labels/third-party-bound',
      'store/recording-input',
      'exposition/conformance',
      'exposition/escaping',
      'exposition/escaping-endpoint',
      'otel/otlp-exemplars',
      'store/hot-paths',
    ),
  },
  {
    // Exemplars: reached only by recordings inside a span context. The real-Prometheus side
    // (exposition/exemplars-prometheus) is left out.
    name: 'core-exemplars',
    minutes: 9, // the exemplar clock test (about 2 s) runs for every mutant on the record path
    mutate: ['packages/core/src/store/exemplars.ts'],
    spec: core(
      'store/exemplar-clock',
      'exposition/exemplars',
      'otel/otlp-exemplars',
      'store/recording-input',
      'exposition/exemplar-validity',
    ),
  },
  {
    // otel/ is cut in two by files (1,100 mutants), with one spec: a mutant runs only the tests that reach it.
    name: 'core-otel',
    minutes: 10,
    mutate: [
      'packages/core/src/otel/views.ts',
      'packages/core/src/otel/producer.ts',
      'packages/core/src/otel/third-party-bound.ts',
      'packages/core/src/otel/otlp-exemplars.ts',
      'packages/core/src/otel/exponential-points.ts',
      'packages/core/src/otel/host-reader.ts',
    ],
    spec: [
      ...core('otel/producer', 'otel/host-reader', 'otel/exponential-points', 'otel/otlp-exponential'),
      ...otelSuites,
    ],
  },
  {
    name: 'core-otel-export',
    minutes: 4,
    mutate: [
      'packages/core/src/otel/exporters.ts',
      'packages/core/src/otel/traces.ts',
      'packages/core/src/otel/resource.ts',
    ],
    spec: [...core('otel/exporters-unit', 'otel/traces-unit'), ...otelSuites],
  },
  {
    name: 'core-config',
    minutes: 1,
    mutate: ['packages/core/src/config/*.ts', 'packages/core/src/settings/*.ts'],
    spec: core(
      'config/resolve',
      'config/settings',
      'config/config',
      'store/recording-input',
      'otel/exporters',
      'otel/resource',
      'otel/traces',
      'endpoint/running',
      'exposition/openmetrics-created',
      'exposition/native-histograms',
    ),
  },
  {
    name: 'core-instrumentations',
    minutes: 1,
    mutate: ['packages/core/src/instrumentations/**/*.ts'],
    spec: core(
      'register/instrumentations',
      'register/loader-hook',
      'register/preload',
      'runtime/hosts',
      'register/register-instrumentations',
      'register/register',
    ),
  },
  {
    // The instrumentations' shared kit (core/internal): tried through the kit's own tests (only core's count: in the
    // sandbox, storage's and http's tests, which need no service, reach the checkout's core through their links).
    name: 'core-instrumentation-kit',
    restartEvery: 1,
    minutes: 6,
    mutate: ['packages/core/src/instrumentation-kit/*.ts'],
    spec: [
      'packages/core/test/register/instrumentation-kit.test.ts',
      'packages/core/test/register/instrumentation-kit-edges.test.ts',
      'packages/storage/test/instrumentation-edges.test.ts',
      'packages/http/test/server-instrumentation-edges.test.ts',
    ],
  },
  {
    name: 'http',
    restartEvery: 1,
    minutes: 6,
    mutate: ['packages/http/src/server/instrumentation.ts', 'packages/http/src/server/routes.ts'],
    spec: [
      'packages/http/test/server-instrumentation.test.ts',
      'packages/http/test/server-instrumentation-edges.test.ts',
      'packages/http/test/http-server.test.ts',
    ],
  },
  {
    name: 'storage',
    restartEvery: 1,
    minutes: 6,
    mutate: ['packages/storage/src/instrumentation.ts', 'packages/storage/src/instrument.ts'],
    spec: [
      'packages/storage/test/instrumentation.test.ts',
      'packages/storage/test/instrumentation-instances.test.ts',
      'packages/storage/test/instrumentation-edges.test.ts',
      'packages/storage/test/instrument.test.ts',
      'packages/storage/test/no-telemetry.test.ts',
    ],
  },
  {
    name: 'db',
    restartEvery: 1,
    timeoutMS: 15000,
    minutes: 5,
    mutate: ['packages/db/src/instrumentation.ts'],
    spec: [
      'packages/db/test/instrumentation-edges.test.ts',
      'packages/db/test/instrumentation.test.ts',
      'packages/db/test/instrumentation-instances.test.ts',
    ],
  },
  {
    name: 'db-patch',
    restartEvery: 1,
    timeoutMS: 15000,
    minutes: 3,
    mutate: ['packages/db/src/patch.ts'],
    spec: [
      'packages/db/test/adoption-edges.test.ts',
      'packages/db/test/instrumentation-edges.test.ts',
      'packages/db/test/instrumentation.test.ts',
      'packages/db/test/instrumentation-instances.test.ts',
    ],
  },
  {
    // otlp-failures.ts alone (cut from core-otel-export, whose spec it shares: 52 minutes in one shard on 2026-12-07),
    // in two halves by lines (the cut is between two methods, so no mutant spans it; mutate.mjs adds the halves' rows
    // into one): about a hundred survivors each run the OTLP failure suites, which wait on real exports and shutdowns.
    name: 'core-otel-failures',
    minutes: 1,
    mutate: ['packages/core/src/otel/otlp-failures.ts:1-148'],
    spec: otelFailuresSpec,
  },
  {
    name: 'core-otel-failures-2',
    minutes: 10,
    mutate: ['packages/core/src/otel/otlp-failures.ts:149-999'],
    spec: otelFailuresSpec,
  },
];
