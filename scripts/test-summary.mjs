// Sums the vitest JSON reports of one `npm test` run (build/test-results/*.json, written by
// the json reporter of each vitest config) into one closing line: "N passed, N failed".
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = "build/test-results";
let passed = 0, failed = 0, skipped = 0, files = 0;
let names = [];
try { names = readdirSync(dir).filter((n) => n.endsWith(".json")); } catch { /* no reports */ }
for (const name of names) {
  const r = JSON.parse(readFileSync(join(dir, name), "utf8"));
  passed += r.numPassedTests ?? 0;
  // A file that fails to load counts no test: count it as one failure so it is not hidden.
  const f = r.numFailedTests ?? 0;
  failed += f > 0 ? f : (r.numFailedTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  files++;
}
console.log(`test reports read: ${files}`);
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
