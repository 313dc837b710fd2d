// Mocha's spec reporter plus the closing line CI reads: `tests: N passed, N failed[, N skipped]`.
// With TUIST_TEST_SUMMARY=<file> it also writes the counts there as JSON, so `npm test` can add up its Node lines.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class TuistReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      const summary = process.env.TUIST_TEST_SUMMARY;
      if (summary) fs.writeFileSync(summary, JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending }));
      // Printed after the spec summary so it is the last line of the run.
      process.nextTick(() => console.log(`tests: ${s.passes} passed, ${s.failures} failed${skipped}`));
    });
  }
}
module.exports = TuistReporter;
