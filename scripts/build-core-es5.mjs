#!/usr/bin/env node
// Builds the device core as ONE ES5 script that defines one global, `fwsealCore`:
//   build/fwseal-core.js      readable (identifiers kept, comments dropped)
//   build/fwseal-core.min.js  minified
// Pipeline: esbuild bundles device-sim/core/index.ts (iife, target es2015, tree-shaken),
// TypeScript 5.9 downlevels the bundle to ES5, acorn re-parses it with ecmaVersion 5, and
// scripts/check-subset.mjs walks the result; any failure fails the build (exit 1).
//
// The global is declared with a banner (`var fwsealCore;`) and assigned by a tiny entry
// stub, so the bundle has no ESM export object (esbuild's `__export` uses getters, which
// the constrained engines must not depend on).
//
// Usage: node scripts/build-core-es5.mjs [--quiet]
// Library: import { buildCoreEs5 } from "./build-core-es5.mjs" -> { files: [{path, bytes, gzipBytes}] }

import { build, transformSync } from "esbuild";
import ts from "typescript";
import * as acorn from "acorn";
import { gzipSync } from "node:zlib";
import { mkdirSync, writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkEmittedJs } from "./check-subset.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..");
export const coreEntry = path.join(repoRoot, "device-sim/core/index.ts");
export const outDir = path.join(repoRoot, "build");
export const coreFile = path.join(outDir, "fwseal-core.js");
export const coreMinFile = path.join(outDir, "fwseal-core.min.js");

const GLOBAL_NAME = "fwsealCore";

// The entry stub: import the hand-built core object and assign it to the global that the
// banner declares. `fwsealCore` stays a free identifier for esbuild, so it renames nothing to it.
function entryStub(entry) {
  return "import { fwsealCore as core } from " + JSON.stringify(entry) + ";\n" + GLOBAL_NAME + " = core;\n";
}

async function bundle(entry, minify) {
  const result = await build({
    stdin: { contents: entryStub(entry), resolveDir: repoRoot, sourcefile: "fwseal-core-entry.ts", loader: "ts" },
    bundle: true,
    format: "iife",
    target: "es2015",
    platform: "neutral",
    treeShaking: true,
    minify,
    legalComments: "none",
    charset: "ascii",
    banner: { js: "var " + GLOBAL_NAME + ";" },
    // Class fields become constructor assignments, not Object.defineProperty (__publicField).
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    write: false,
    logLevel: "silent",
  });
  if (result.warnings.length > 0) {
    for (const w of result.warnings) process.stderr.write("esbuild warning: " + w.text + "\n");
  }
  return result.outputFiles[0].text;
}

function downlevel(js) {
  const out = ts.transpileModule(js, {
    compilerOptions: {
      target: ts.ScriptTarget.ES5,
      module: ts.ModuleKind.CommonJS, // the input is a script (no import/export): emitted as is
      removeComments: true, // keeps the file ASCII and small (Espruino stores function source text)
      importHelpers: false,
      noEmitHelpers: false,
      downlevelIteration: false,
    },
    reportDiagnostics: true,
    fileName: "fwseal-core.js",
  });
  const errs = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errs.length > 0) {
    throw new Error("TypeScript ES5 downlevel failed: " + errs.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; "));
  }
  return out.outputText;
}

// Parse as strict ES5 (acorn ecmaVersion 5, script). Throws with line:column on failure.
export function assertEs5(js, name) {
  try {
    acorn.parse(js, { ecmaVersion: 5, sourceType: "script", locations: true });
  } catch (e) {
    throw new Error(name + " is not ES5: " + e.message);
  }
}

function writeAtomic(file, text) {
  const tmp = file + "." + process.pid + ".tmp";
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

// Bundle + downlevel, in memory. Returns [{ path, text }] for the plain and minified files.
// opts.entry: another entry file exporting `fwsealCore` (tests); opts.outDir: where to write.
export async function emitCoreEs5(opts = {}) {
  const entry = opts.entry || coreEntry;
  const dir = opts.outDir || outDir;
  const plain = downlevel(await bundle(entry, false));
  // Minify with esbuild, downlevel, then minify whitespace and local names once more (the
  // downlevel re-expands arrow functions and classes). No syntax minification after the
  // downlevel: it could reintroduce ES2015 forms.
  const minES5 = downlevel(await bundle(entry, true));
  const min = transformSync(minES5, {
    minifyWhitespace: true,
    minifySyntax: false,
    minifyIdentifiers: true,
    legalComments: "none",
    charset: "ascii",
  }).code;
  return [
    { path: path.join(dir, path.basename(coreFile)), text: plain },
    { path: path.join(dir, path.basename(coreMinFile)), text: min },
  ];
}

export async function buildCoreEs5(opts = {}) {
  const outputs = await emitCoreEs5(opts);
  const problems = [];
  for (const o of outputs) {
    const rel = path.relative(repoRoot, o.path);
    try {
      assertEs5(o.text, rel);
    } catch (e) {
      problems.push(e.message);
      continue;
    }
    for (const v of checkEmittedJs(o.text, rel)) problems.push(v.text);
  }
  if (problems.length > 0) {
    const err = new Error("ES5 core build failed:\n" + problems.join("\n"));
    err.problems = problems;
    throw err;
  }
  mkdirSync(path.dirname(outputs[0].path), { recursive: true });
  const files = [];
  for (const o of outputs) {
    writeAtomic(o.path, o.text);
    const bytes = Buffer.byteLength(o.text);
    const gzipBytes = gzipSync(Buffer.from(o.text), { level: 9 }).length;
    files.push({ path: o.path, bytes, gzipBytes });
    if (!opts.quiet) {
      process.stdout.write(path.relative(repoRoot, o.path) + ": " + bytes + " bytes, " + gzipBytes + " gzip bytes\n");
    }
  }
  return { files };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCoreEs5({ quiet: process.argv.includes("--quiet") }).catch((e) => {
    process.stderr.write("build-core-es5: " + (e && e.message ? e.message : String(e)) + "\n");
    process.exitCode = 1;
  });
}
