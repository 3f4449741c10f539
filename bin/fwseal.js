#!/usr/bin/env node
// Entry point for `npx fwseal`: the compiled CLI lives in dist/ (built by `npm run build`,
// which `npm install` runs through the prepare script).
import { main } from "../dist/host/cli/cli.js";
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
