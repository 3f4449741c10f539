import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One config for the three tiers (npm run test:unit / test:engines / test:system pick a
    // folder). Real engines (duk), real ptys and real crypto: some files take tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Machine-readable results, summed by scripts/test-summary.mjs into one closing line.
    reporters: ["default", "json"],
    outputFile: { json: `build/test-results/tier-${process.pid}.json` },
  },
});
