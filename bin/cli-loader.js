// Loads a single-file CLI build (dist/fwseal-cli.cjs, or dist/fwseal-cli-check.cjs for the
// checking commands; scripts/build-cli-bundle.mjs) with its V8 code cache (the .cache file
// beside it): the bundle is compiled from cached bytecode instead of being parsed at every
// start. The bundle's first line names its build (the SHA-256 of the rest of the file,
// written by the build); the cache starts with the same 32 bytes and is used only for that
// build, and only when V8 accepts it (same Node/V8 version and flags); otherwise the bundle
// is compiled normally. Comparing the recorded digests instead of hashing the megabyte of
// source at every start saves a few milliseconds.
"use strict";
const { readFileSync, statSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");
const vm = require("node:vm");

const packageDir = path.join(__dirname, "..");
const distDir = path.join(packageDir, "dist");
/** The bundles (scripts/build-cli-bundle.mjs): name -> the tsc output it is built from. */
const ENTRIES = {
  "fwseal-cli": path.join(distDir, "host", "cli", "cli.js"),
  "fwseal-cli-check": path.join(distDir, "host", "cli", "cli-check.js")
};
/** The commands the checking bundle has (host/cli/commands/check-commands.ts). */
const CHECK_COMMANDS = ["inspect", "verify"];
const DIGEST_LEN = 32;
/** The bundle's first line: this prefix, then the build digest in hex (scripts/build-cli-bundle.mjs). */
const BUILD_LINE = "// fwseal-cli build ";

/** The file of bundle `name`. */
function bundleFile(name) {
  return path.join(distDir, `${name}.cjs`);
}

function mtime(file) {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

/**
 * An installed copy (under node_modules): npm gives its files the times they were unpacked,
 * in the tarball's order (the bundles before dist/host), and nothing recompiles it there.
 */
const INSTALLED = __dirname.split(path.sep).includes("node_modules");

/**
 * True when bundle `name` exists and is not older than the tsc output it was built from (a
 * checkout after a tsc-only rebuild runs the modules); in an installed copy, when it exists.
 */
function bundleIsCurrent(name = "fwseal-cli") {
  const b = mtime(bundleFile(name));
  return b >= 0 && (INSTALLED || b >= mtime(ENTRIES[name]));
}

/**
 * The bundle to run for `argv` (without node and script): the checking bundle for its
 * commands when it is current, else the whole CLI's; null when neither is current.
 */
function bundleFor(argv) {
  if (argv.length > 0 && CHECK_COMMANDS.includes(argv[0]) && bundleIsCurrent("fwseal-cli-check")) return "fwseal-cli-check";
  return bundleIsCurrent("fwseal-cli") ? "fwseal-cli" : null;
}

/** The build digest on the bundle's first line (empty when the line is missing). */
function buildDigest(source) {
  if (!source.startsWith(BUILD_LINE)) return Buffer.alloc(0);
  return Buffer.from(source.slice(BUILD_LINE.length, BUILD_LINE.length + 2 * DIGEST_LEN), "hex");
}

function readCache(cacheFile, digest) {
  let data;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  return digest.length === DIGEST_LEN && data.length > DIGEST_LEN && data.subarray(0, DIGEST_LEN).equals(digest) ? data.subarray(DIGEST_LEN) : undefined;
}

/**
 * Evaluates bundle `name` and returns its exports ({ main }). With `useCache` false it
 * compiles from source and returns `saveCache()` too, which writes the cache of everything
 * compiled so far (the build calls it after representative runs).
 */
function loadBundledCli(useCache = true, name = "fwseal-cli") {
  const file = bundleFile(name);
  const cacheFile = path.join(distDir, `${name}.cache`);
  // The bundle is one function expression, the CommonJS wrapper Node's own loader would
  // apply (written by the build: no megabyte string to concatenate here).
  // ASCII (the build checks): latin1 makes the one-byte string directly, no UTF-8 decoding.
  const source = readFileSync(file, "latin1");
  const digest = buildDigest(source);
  const cachedData = useCache ? readCache(cacheFile, digest) : undefined;
  // Without the cache (the build, which saves one), the script is named relative to the
  // package: V8 keeps the name a cache was made under, and runs from the cache report it in
  // stack traces, wherever the package is installed; the build machine's path would mislead.
  const script = new vm.Script(source, { filename: useCache ? file : path.relative(packageDir, file), cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, distDir);
  const saveCache = () => writeFileSync(cacheFile, Buffer.concat([digest, script.createCachedData()]));
  return { main: module.exports.main, saveCache };
}

exports.ENTRIES = ENTRIES;
exports.bundleFile = bundleFile;
exports.CHECK_COMMANDS = CHECK_COMMANDS;
exports.bundleIsCurrent = bundleIsCurrent;
exports.bundleFor = bundleFor;
exports.loadBundledCli = loadBundledCli;
