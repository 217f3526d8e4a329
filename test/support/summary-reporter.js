// Prints one plain closing line, "tests: N passed, N failed, N skipped", after jest's own summary,
// so any log reader can tell at a glance how the whole run went.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `\ntests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    // At exit, so that it comes after jest's own summary.
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;
