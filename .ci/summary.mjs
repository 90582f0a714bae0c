// Prints "N passed, N failed" from vitest's JSON report; a missing or broken report is a failure.
// `npm test` type-checks (tsc, vue-tsc) before vitest runs: when a type check fails, vitest never
// writes its report, and that is counted and named here as one failure.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  // A suite that failed to load has no tests in the counts; count it as a failure.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
  }
  // Skipped tests are failures in CI: interop tests must run there.
  failed += report.numPendingTests ?? 0;
} catch (e) {
  if (e.code === 'ENOENT') console.error('no test report: npm test stopped before vitest wrote one (a failed type check, tsc or vue-tsc, stops it there); the errors are above');
  else console.error(`broken test report: ${e.message}`);
  failed = Math.max(failed, 1);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
