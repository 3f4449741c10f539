#!/usr/bin/env node
// Entry point for `npx fwseal`: the compiled CLI lives in dist/ (built by `npm run build`,
// which `npm install` runs through the prepare script). It runs a single-file build
// (bin/cli-loader.js: the checking commands' own small one for inspect and verify), which
// starts several times faster than the ~100 separate modules, unless that build is missing
// or older than the tsc output (then dist/host/cli/cli.js).
// CommonJS (bin/package.json): a CommonJS main module skips Node's ES module loader
// (resolution, linking and the ES facades of node:fs and friends), several milliseconds
// of every start.
"use strict";

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === "--version") {
  // Fast path: the version needs no module at all (same output as yargs' --version).
  const pkg = require("node:path").join(__dirname, "..", "package.json");
  process.stdout.write(JSON.parse(require("node:fs").readFileSync(pkg, "utf8")).version + "\n");
} else {
  const loader = require("./cli-loader.js");
  const run = async () => {
    const bundle = loader.bundleFor(argv);
    const { main } = bundle !== null ? loader.loadBundledCli(true, bundle) : await import("../dist/host/cli/cli.js");
    process.exitCode = await main(argv);
  };
  // A rejection ends the process as an error at a module's top level would: trace, exit 1.
  run();
}
