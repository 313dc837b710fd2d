// Preloaded into Stryker's test runner process by scripts/mutate.mjs (testRunnerNodeArgs). Stryker switches a mutant
// on through a global of that process only, so the apps a test starts as child processes (zero-code start, NodeSDK
// and ESM fixtures, node:cluster apps) would run the original code. The instrumented code also reads the active
// mutant from the environment variable below when its process has none, so this mirrors the global into
// process.env, which the children inherit. (Coverage still comes from the runner process only: a mutant reached by
// no in-process test is "not covered" and never run.)
const VARIABLE = '__STRYKER_ACTIVE_MUTANT__';
const ns = (globalThis.__stryker__ ??= {});
let active = ns.activeMutant;
Object.defineProperty(ns, 'activeMutant', {
  configurable: true,
  enumerable: true,
  get: () => active,
  set(value) {
    active = value;
    if (value === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = String(value);
  },
});
