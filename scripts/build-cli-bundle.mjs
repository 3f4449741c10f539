#!/usr/bin/env node
// Builds the command line as ONE CommonJS file, dist/fwseal-cli.cjs, from the tsc output in
// dist/host (run after tsc), and its V8 code cache dist/fwseal-cli.cache. Start-up of a Node
// CLI is dominated by resolving, reading and compiling its modules one by one (about a
// hundred for fwseal with yargs); a single file is read once and, with the code cache,
// not even parsed. Command modules stay lazily evaluated: the CLI's dynamic imports become
// lazy initialisers inside the bundle, so `fwseal verify` still evaluates only what verify
// needs. Native packages (serialport, pkcs11js) stay outside and are required on first use.
// bin/cli-loader.js loads the result; bin/fwseal.js falls back to dist/host/cli/cli.js when
// the bundle is absent or older than it (a tsc-only rebuild).
//
// Two dependencies are adapted while bundling:
// - string-width (used by yargs' help layout, which yargs renders on every command run to
//   cache it) builds Intl.Segmenter and Unicode-property regular expressions when it is
//   loaded, about 15 ms of ICU set-up per start. Every import of it gets a front that
//   answers printable-ASCII strings itself (their width is their length, exactly what
//   string-width computes for them) and loads the real module, from the same resolved
//   file, on the first other string.
// - yargs renders the full help text of every command it runs, to cache it for a
//   showHelp() after the command (command.js, cacheHelpMessage: 10-20 ms per start).
//   fwseal never shows help after a command ran (showHelpOnFail(false), no showHelp in a
//   handler; help is shown only for --help, which renders it itself), so that call is
//   left out of the bundle. test/system/cli-bundle.test.ts compares the outputs.
// - yargs' platform shim derives its package root and locale folder from its own file
//   location (import.meta.url); in the bundle it gets the location yargs resolves to from
//   the bundle, so `--version` and translations behave as without the bundle.
//
// Usage: node scripts/build-cli-bundle.mjs
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const bundleFile = path.join(repoRoot, "dist/fwseal-cli.cjs");
const MODULE_URL = "__fwsealModuleUrl";

const LAZY_NS = "fwseal-lazy-string-width";

/** esbuild plugin: every `string-width` import becomes the lazy front described above. */
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === LAZY_NS) return undefined; // the front's own import: the real file
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: LAZY_NS });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: LAZY_NS };
    });
    b.onLoad({ filter: /.*/, namespace: LAZY_NS }, (args) => ({
      resolveDir: path.dirname(args.path),
      pluginData: LAZY_NS,
      contents: [
        "let real = null;",
        "const PRINTABLE_ASCII = /^[\\x20-\\x7e]*$/;",
        "export default function stringWidth(text, options) {",
        "  if (typeof text === 'string' && PRINTABLE_ASCII.test(text)) return text.length;",
        // require() of an ES module inside the bundle: esbuild evaluates it on first call.
        `  if (real === null) real = require(${JSON.stringify(args.path)}).default;`,
        "  return real(text, options);",
        "}"
      ].join("\n")
    }));
  }
};

/**
 * esbuild plugin that replaces `find` by `replacement` in the files matching `filter`; the
 * build fails when `find` is missing (the dependency changed: this script needs a look).
 */
function patchDependency(name, filter, find, replacement) {
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!text.includes(find)) throw new Error(`${args.path}: expected ${find} (dependency changed; update scripts/build-cli-bundle.mjs)`);
        return { contents: text.replace(find, replacement), loader: "js", resolveDir: path.dirname(args.path) };
      });
    }
  };
}

/** yargs' shim sees the file it has in the installed yargs package. */
const yargsShimLocation = patchDependency(
  "yargs-shim-location",
  /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/,
  "fileURLToPath(import.meta.url)",
  `createRequire(import.meta.url).resolve("yargs/package.json").replace(/package\\.json$/, "lib/platform-shims/esm.mjs")`
);

/** yargs' command runner without the help rendering described above. */
const noHelpCache = patchDependency(
  "no-help-cache",
  /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/,
  "yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();",
  "/* help not cached: see scripts/build-cli-bundle.mjs */"
);

await build({
  entryPoints: [path.join(repoRoot, "dist/host/cli/cli.js")],
  outfile: bundleFile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["serialport", "pkcs11js"],
  // import.meta does not exist in CommonJS: the bundle's own URL stands in for it.
  define: { "import.meta.url": MODULE_URL },
  banner: { js: `const ${MODULE_URL} = require("node:url").pathToFileURL(__filename).href;` },
  plugins: [lazyStringWidth, yargsShimLocation, noHelpCache],
  legalComments: "none",
  logLevel: "warning"
});

// The code cache: compile, run `fwseal --help` (evaluates every command module), save
// everything V8 compiled. In a child process: the help goes nowhere, this process stays clean.
const loader = pathToFileURL(path.join(repoRoot, "bin/cli-loader.js")).href;
const make = `const l = await import(${JSON.stringify(loader)}); const c = l.loadBundledCli(false);
await c.main(["--help"], { stdout() {}, stderr() {}, stderrIsTTY: false }); c.saveCache();`;
const r = spawnSync(process.execPath, ["--input-type=module", "-e", make], { stdio: ["ignore", "ignore", "inherit"] });
if (r.status !== 0) throw new Error("building the CLI code cache failed");
