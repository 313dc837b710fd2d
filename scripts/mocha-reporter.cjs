// Mocha's spec reporter plus the closing line CI reads: `tests: N passed, N failed[, N skipped]`.
'use strict';
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class TuistReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      // Printed after the spec summary so it is the last line of the run.
      process.nextTick(() => console.log(`tests: ${s.passes} passed, ${s.failures} failed${skipped}`));
    });
  }
}
module.exports = TuistReporter;
