import { defineConfig } from "vitest/config";

// `npm run test:mcu` (hw-test/mcu/test.sh): the firmware's platform tests on QEMU.
export default defineConfig({
  test: {
    include: ["hw-test/mcu/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Machine-readable results, summed by scripts/test-summary.mjs into one closing line.
    reporters: ["default", "json"],
    outputFile: { json: `build/test-results/mcu-${process.pid}.json` },
    fileParallelism: false,
  },
});
