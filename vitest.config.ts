import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real engines (duk), real ptys and real crypto: some files take tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Machine-readable results, summed by scripts/test-summary.mjs into one closing line.
    reporters: ["default", "json"],
    outputFile: { json: `build/test-results/unit-${process.pid}.json` },
  },
});
