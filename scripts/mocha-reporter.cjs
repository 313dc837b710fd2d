// Mocha's spec reporter plus the closing line CI reads: `tests: N passed, N failed[, N skipped]`.
// With TUIST_TEST_SUMMARY=<file> it also writes the counts there as JSON, so `npm test` can add up its Node lines.
// It also counts the diag lines core's default logger printed in this process (`warn: …`, `error: …` on stderr):
// tests that provoke warnings capture and assert them, so in a green run any such line is news, and the closing
// line says how many there were and which tests they came from.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

const { EVENT_TEST_BEGIN, EVENT_TEST_FAIL } = Mocha.Runner.constants;

/** Counts `warn: ` / `error: ` lines written to this process's stderr, with the test that was running. */
function watchDiagLines(runner) {
  const seen = [];
  let current = '(outside a test)';
  runner.on(EVENT_TEST_BEGIN, (test) => (current = test.fullTitle()));
  const write = process.stderr.write;
  process.stderr.write = function (chunk, ...rest) {
    try {
      for (const line of String(chunk).split('\n'))
        if (/^(warn|error): /.test(line)) seen.push(`${current}: ${line.slice(0, 160)}`);
    } catch {
      // counting must never break the output
    }
    return write.call(this, chunk, ...rest);
  };
  return seen;
}

class TuistReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const diagLines = watchDiagLines(runner);
    // Each failure's title and first message line, repeated at the very end so a log's tail names what failed.
    const failures = [];
    runner.on(EVENT_TEST_FAIL, (test, err) =>
      failures.push(
        `${test.fullTitle()}: ${String(err?.message ?? err)
          .split('\n')[0]
          .slice(0, 200)}`,
      ),
    );
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      const summary = process.env.TUIST_TEST_SUMMARY;
      if (summary)
        fs.writeFileSync(
          summary,
          JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending, failures }),
        );
      // Printed after the spec summary so it is the last line of the run.
      process.nextTick(() => {
        if (diagLines.length > 0) {
          console.log(
            `\n${diagLines.length} diag warn/error line(s) on stderr that no test captured (a test that provokes one should capture and assert it: captureDiag in @tuist-telemetry/testing):`,
          );
          for (const l of diagLines.slice(0, 20)) console.log(`  ${l}`);
        }
        if (failures.length > 0) {
          console.log('\nfailed:');
          for (const f of failures) console.log(`  ${f}`);
        }
        console.log(
          `tests: ${s.passes} passed, ${s.failures} failed${skipped}${diagLines.length ? `, ${diagLines.length} uncaptured diag lines` : ''}`,
        );
      });
    });
  }
}
module.exports = TuistReporter;
