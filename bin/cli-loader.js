// Loads the single-file CLI build (dist/fwseal-cli.cjs, scripts/build-cli-bundle.mjs) with
// V8's code cache (dist/fwseal-cli.cache): the bundle is compiled from cached bytecode
// instead of being parsed at every start. The cache is used only when it was made from
// exactly this bundle (its first 32 bytes are the bundle's SHA-256) and V8 accepts it (same
// Node/V8 version and flags); otherwise the bundle is compiled normally.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const bundleFile = fileURLToPath(new URL("../dist/fwseal-cli.cjs", import.meta.url));
const cacheFile = fileURLToPath(new URL("../dist/fwseal-cli.cache", import.meta.url));
const modulesFile = fileURLToPath(new URL("../dist/host/cli/cli.js", import.meta.url));
const DIGEST_LEN = 32;

function mtime(file) {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

/** True when the bundle exists and is not older than the tsc output it was built from. */
export function bundleIsCurrent() {
  const b = mtime(bundleFile);
  return b >= 0 && b >= mtime(modulesFile);
}

function readCache(digest) {
  let data;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  return data.length > DIGEST_LEN && data.subarray(0, DIGEST_LEN).equals(digest) ? data.subarray(DIGEST_LEN) : undefined;
}

/**
 * Evaluates the bundle and returns its exports ({ main }). With `useCache` false it compiles
 * from source and returns `saveCache()` too, which writes the cache of everything compiled
 * so far (the build calls it after a representative run).
 */
export function loadBundledCli(useCache = true) {
  const source = readFileSync(bundleFile, "utf8");
  const digest = createHash("sha256").update(source).digest();
  const cachedData = useCache ? readCache(digest) : undefined;
  // The CommonJS wrapper, as Node's own loader would apply it.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundleFile, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundleFile), module, bundleFile, fileURLToPath(new URL("../dist", import.meta.url)));
  const saveCache = () => writeFileSync(cacheFile, Buffer.concat([digest, script.createCachedData()]));
  return { main: module.exports.main, saveCache };
}
