#!/usr/bin/env node
// Entry point for `npx fwseal`: the compiled CLI lives in dist/ (built by `npm run build`,
// which `npm install` runs through the prepare script). It runs the single-file build
// (bin/cli-loader.js), which starts several times faster than the ~100 separate modules,
// unless that build is missing or older than the tsc output (then dist/host/cli/cli.js).
import { readFileSync } from "node:fs";

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === "--version") {
  // Fast path: the version needs no module at all (same output as yargs' --version).
  process.stdout.write(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version + "\n");
} else {
  const loader = await import("./cli-loader.js");
  const { main } = loader.bundleIsCurrent() ? loader.loadBundledCli() : await import("../dist/host/cli/cli.js");
  process.exitCode = await main(argv);
}
