// Preloaded into Stryker's test runner process by scripts/mutate.mjs (testRunnerNodeArgs). Two fixes to how
// Stryker's mocha runner sees this repository's tests:
//
// 1. Child processes run the active mutant. Stryker switches a mutant on through a global of the runner process
//    only, so the apps a test starts (NodeSDK and ESM fixtures, node:cluster apps) would run the original code. The
//    instrumented code also reads the active mutant from __STRYKER_ACTIVE_MUTANT__ when its process has none, so the
//    global is mirrored into process.env, which the children inherit. (Coverage still comes from the runner process
//    only: a mutant no in-process code reaches is "not covered" and never run.)
//
// 2. Code run by a `before all` / `after all` hook counts as covered by the tests of that hook's suite. Stryker
//    records coverage under the test that last started (set in a root `beforeEach`), so setup code in a suite's
//    `before` hook (startTelemetry, enabling an instrumentation, starting a server) was credited to the previous,
//    unrelated test, or to no test ("static", every test rerun after a restart) for the first suite. The mutant was
//    then tried against a test that never runs that hook: a false survivor, or a slow static run.
import { createRequire } from 'node:module';
import path from 'node:path';

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

// The mocha the runner loads (resolved from the sandbox, as Stryker's runner resolves it): one module instance.
const { Hook } = createRequire(path.join(process.cwd(), 'package.json'))('mocha');
const ALL_HOOK = /^"(before|after) all" hook/;
const run = Hook.prototype.run;
Hook.prototype.run = function (fn) {
  const suite = this.parent;
  if (!ALL_HOOK.test(this.title) || suite === undefined) return run.call(this, fn);
  const previous = ns.currentTestId;
  const key = `hook: ${this.fullTitle()}`;
  ns.currentTestId = key;
  return run.call(this, (...args) => {
    const perTest = ns.mutantCoverage?.perTest;
    const hits = perTest?.[key];
    if (hits !== undefined) {
      delete perTest[key];
      for (const test of testsOf(suite)) {
        const id = test.fullTitle();
        const into = (perTest[id] ??= {});
        for (const [mutant, n] of Object.entries(hits)) into[mutant] = (into[mutant] ?? 0) + n;
      }
    }
    ns.currentTestId = previous;
    fn(...args);
  });
};

function testsOf(suite) {
  return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}
