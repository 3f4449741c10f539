import { defineConfig } from "vitest/config";

// `npm run test:hw`: the protocol suite against one serial device (HW_PORT), or by default
// against the simulator on a pty. Real boards and emulated MCUs are slow: generous timeouts.
export default defineConfig({
  test: {
    include: ["hw-test/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Machine-readable results, summed by scripts/test-summary.mjs into one closing line.
    reporters: ["default", "json"],
    outputFile: { json: `build/test-results/hw-${process.pid}.json` },
    fileParallelism: false
  }
});
