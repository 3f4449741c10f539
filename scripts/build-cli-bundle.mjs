#!/usr/bin/env node
// Builds the command line as ONE CommonJS function, dist/fwseal-cli.cjs, from the tsc output in
// dist/host (run after tsc), and its V8 code cache dist/fwseal-cli.cache; and the same for the
// checking commands alone (inspect, verify): dist/fwseal-cli-check.cjs and .cache. Start-up of a Node
// CLI is dominated by resolving, reading and compiling its modules one by one (about a
// hundred for fwseal with yargs); a single file is read once and, with the code cache,
// not even parsed. Command modules stay lazily evaluated: the CLI's dynamic imports become
// lazy initialisers inside the bundle, so `fwseal verify` still evaluates only what verify
// needs. Native packages (serialport, pkcs11js) stay outside and are required on first use.
// bin/cli-loader.js loads the result (the checking bundle for `fwseal inspect` and `fwseal verify`);
// bin/fwseal.js falls back to dist/host/cli/cli.js when a bundle is absent or older than the tsc
// output (a tsc-only rebuild).
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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
// The bundles, their entries and files are named once, by the loader that runs them.
const cliLoader = createRequire(import.meta.url)(path.join(repoRoot, "bin/cli-loader.js"));
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
      // Named relative to the repository: the name is the front's key in the published bundle,
      // which must not carry the build machine's directories.
      return { path: path.relative(repoRoot, real.path), namespace: LAZY_NS };
    });
    b.onLoad({ filter: /.*/, namespace: LAZY_NS }, (args) => {
      const file = path.resolve(repoRoot, args.path);
      return {
        resolveDir: path.dirname(file),
        pluginData: LAZY_NS,
        contents: [
          "let real = null;",
          "const PRINTABLE_ASCII = /^[\\x20-\\x7e]*$/;",
          "export default function stringWidth(text, options) {",
          "  if (typeof text === 'string' && PRINTABLE_ASCII.test(text)) return text.length;",
          // require() of an ES module inside the bundle: esbuild evaluates it on first call.
          `  if (real === null) real = require(${JSON.stringify("./" + path.basename(file))}).default;`,
          "  return real(text, options);",
          "}"
        ].join("\n")
      };
    });
  }
};

/**
 * esbuild plugin that replaces, in the files matching `filter`, each [find, replacement]
 * pair's `find` by its replacement; the build fails when a `find` is missing (the dependency
 * changed: this script needs a look).
 */
function patchDependency(name, filter, ...edits) {
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, (args) => {
        let text = readFileSync(args.path, "utf8");
        for (const [find, replacement] of edits) {
          if (!text.includes(find)) throw new Error(`${args.path}: expected ${find} (dependency changed; update scripts/build-cli-bundle.mjs)`);
          text = text.replace(find, replacement);
        }
        return { contents: text, loader: "js", resolveDir: path.dirname(args.path) };
      });
    }
  };
}

/**
 * yargs' shim sees the file it has in the installed yargs package: where the build found it
 * relative to the bundle when it is still there (one realpath call; Node's ES loader, which
 * the unbundled modules run under, names modules by their real path too), else wherever
 * Node resolves yargs from the bundle (a package resolution: milliseconds, hence second).
 * Only the shim's own imports are used: its `require` and `__dirname` are its own variables,
 * not yet set at this point.
 */
const shimFromDist = path.relative(path.join(repoRoot, "dist"), path.join(repoRoot, "node_modules/yargs/lib/platform-shims/esm.mjs"));
const yargsShim = patchDependency(
  "yargs-shim",
  /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/,
  [
    "fileURLToPath(import.meta.url)",
    `((r) => { try { return r("node:fs").realpathSync.native(join(dirname(fileURLToPath(import.meta.url)), ${JSON.stringify(shimFromDist)})); } catch { return r.resolve("yargs/package.json").replace(/package\\.json$/, "lib/platform-shims/esm.mjs"); } })(createRequire(import.meta.url))`
  ],
  // The terminal width matters only for help text: read it then, not at every start
  // (reading process.stdout builds its stream, and for a pipe a socket).
  [
    "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
    "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }"
  ],
  // node:assert (its error class sets up colours and process.stderr: milliseconds) is
  // loaded only when one of yargs' assertions fails: a passing one is the same Object.is
  // test node:assert makes, a failing one is handed to node:assert for its exact error.
  [
    "import { notStrictEqual, strictEqual } from 'assert'",
    "const notStrictEqual = (a, b, m) => { if (Object.is(a, b)) createRequire(import.meta.url)('node:assert').notStrictEqual(a, b, m); };\n" +
      "const strictEqual = (a, b, m) => { if (!Object.is(a, b)) createRequire(import.meta.url)('node:assert').strictEqual(a, b, m); };"
  ]
);

/**
 * yargs' factory without its guess of the version (a directory listing and a read of the
 * nearest package.json at every start): the CLI gives its own (host/version.ts).
 */
const noVersionGuess = patchDependency(
  "no-version-guess",
  /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/,
  ["yargs.version();", "yargs.version(false); /* the CLI sets its version: scripts/build-cli-bundle.mjs */"]
);

/** yargs' command runner without the help rendering described above. */
const noHelpCache = patchDependency(
  "no-help-cache",
  /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/,
  ["yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();", "/* help not cached: see scripts/build-cli-bundle.mjs */"]
);

/**
 * Bundles the tsc output's `entry` (a module exporting main) into `file` as described above.
 */
async function bundleCli(entry, file) {
  const built = await build({
    entryPoints: [entry],
    outfile: file,
    write: false,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["serialport", "pkcs11js"],
    // import.meta does not exist in CommonJS: the bundle's own URL stands in for it.
    define: { "import.meta.url": MODULE_URL },
    banner: { js: `const ${MODULE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    plugins: [lazyStringWidth, yargsShim, noHelpCache, noVersionGuess],
    legalComments: "none",
    // Without comments and indentation the file is a quarter smaller, and pure ASCII (charset
    // escapes the rest), which bin/cli-loader.js reads as a one-byte string: half the memory
    // of the two-byte string a single non-ASCII character in a comment would make.
    minifyWhitespace: true,
    charset: "ascii",
    logLevel: "warning"
  });
  // The file bin/cli-loader.js compiles: one function expression, the CommonJS wrapper Node's
  // loader would add, after a first line naming the build (the SHA-256 of the rest) that the
  // code cache is matched with.
  // Each `import * as fs from "node:fs"` became its own __toESM(require("node:fs"), 1): a fresh
  // namespace object with a getter per export, built again in every one of the dozens of modules
  // importing a built-in (milliseconds of every start). ES modules share one namespace object per
  // module; so does the bundle now, built on first use.
  const BUILTIN_NS = /__toESM\(require\("(node:[a-z_/]+)"\),1\)/g;
  if (!BUILTIN_NS.test(built.outputFiles[0].text)) throw new Error("no __toESM(require(\"node:...\"),1) in the bundle (esbuild changed; update scripts/build-cli-bundle.mjs)");
  const code =
    built.outputFiles[0].text.replace(BUILTIN_NS, '__builtinNamespace("$1")') +
    "\nfunction __builtinNamespace(id){var c=__builtinNamespace.cache||(__builtinNamespace.cache={});return c[id]||(c[id]=__toESM(require(id),1));}";
  const body = `(function (exports, require, module, __filename, __dirname) {${code}\n})\n`;
  if (!/^[\x00-\x7f]*$/.test(body)) throw new Error("the CLI bundle must be ASCII (bin/cli-loader.js reads it as latin1)");
  writeFileSync(file, `// fwseal-cli build ${createHash("sha256").update(body).digest("hex")}\n${body}`);
}

// Two bundles: every command, and the checking commands alone (host/cli/cli-check.ts: inspect
// and verify, which pipelines and update servers run once per artifact). The small one is 60 %
// of the size; reading and compiling it from its code cache, and the memory that touches, took
// about 10 ms off every start of those commands (measured side by side, 64 KiB verify).
for (const [name, entry] of Object.entries(cliLoader.ENTRIES)) await bundleCli(entry, cliLoader.bundleFile(name));

// The code caches: compile, run `fwseal --help` (evaluates every command module) and the
// everyday commands on a small image (keygen, pack, inspect, verify: their handlers and the
// verifier get compiled too, so a start does not parse them lazily), save everything V8
// compiled; then the same for the checking bundle with its commands. In a child process in a
// temporary directory, without profile or audit log: the output goes nowhere, this process
// and the repository stay clean.
const loader = pathToFileURL(path.join(repoRoot, "bin/cli-loader.js")).href;
const work = mkdtempSync(path.join(os.tmpdir(), "fwseal-cli-cache-"));
try {
  writeFileSync(path.join(work, "fw.bin"), Buffer.alloc(20000, 0x5a));
  const checks = [
    ["inspect", "fw.fwb", "--profile", "none"],
    ["verify", "fw.fwb", "-r", "k.pub", "--vendor", "acme.example", "--class", "c", "--profile", "none"]
  ];
  const runs = {
    "fwseal-cli": [
      ["--help"],
      ["keygen", "-o", "k", "--profile", "none"],
      ["pack", "fw.bin", "-k", "k.key", "-r", "k.pub", "--seq", "1", "--vendor", "acme.example", "--class", "c", "--fw-version", "1.0.0", "-o", "fw.fwb", "--profile", "none"],
      ...checks
    ],
    "fwseal-cli-check": checks
  };
  const make = `const l = (await import(${JSON.stringify(loader)})).default;
const io = { stdout() {}, stderr() {}, stderrIsTTY: false };
for (const [name, argvs] of Object.entries(${JSON.stringify(runs)})) {
  const c = l.loadBundledCli(false, name);
  for (const argv of argvs) { const code = await c.main(argv, io); if (code !== 0) throw new Error(name + " " + argv.join(" ") + ": exit " + code); }
  c.saveCache();
}`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("FWSEAL_")) delete env[k];
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", make], { cwd: work, env, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error("building the CLI code cache failed");
} finally {
  rmSync(work, { recursive: true, force: true });
}
