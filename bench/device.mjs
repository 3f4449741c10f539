#!/usr/bin/env node
// Device-core crypto benchmark (npm run bench:device).
//  - Node: the core's pure SHA-256 and Ed25519 verify next to @noble/hashes, @noble/ed25519
//    and node:crypto, in the same process.
//  - duk (Duktape 2.7, Debian package `duktape`): the core's ES5 build next to TweetNaCl's
//    nacl-fast.js loaded into the SAME duk process.
//  - HSS/LMS (RFC 8554) verification by the core next to its Ed25519 verification, on the
//    RFC 8554 Appendix F signatures (two levels), on single levels cut out of them (H10/W4,
//    H5/W8) and on lms.vec's H5/W1 and H10/W2 signatures rebuilt from their seeds: time and sha256 calls on Node (pure and node:crypto SHA-256) and duk (pure), and,
//    when ESPRUINO_BIN names an Espruino Linux build, CPU time on Espruino with its native
//    one-shot SHA-256; the Ed25519 / HSS time ratio on each engine.
// Goals: SHA-256 on Node <= 1.5x the time of @noble/hashes; Ed25519 verify on duk <= 0.35x
// the time of TweetNaCl's nacl.sign.detached.verify.
// Options: --quick (fewer iterations), --json (one JSON object on stdout).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import crypto from "node:crypto";
import { build } from "esbuild";
import ts from "typescript";
import * as ed from "@noble/ed25519";
import { loadHssHelpers, hssBenchCases } from "./hss-cases.mjs";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
ed.hashes.sha512 = nobleSha512;

const GOAL_SHA_NODE = 1.5;
const GOAL_ED_DUK = 0.35;

// ---- load the core (TypeScript sources, bundled to one ESM module for Node) ----

const CORE_STUB =
  'import { sha256 } from "./device-sim/core/crypto/sha256.js";\n' +
  'import { ed25519Verify } from "./device-sim/core/crypto/ed25519.js";\n' +
  'import { createHssVerifier } from "./device-sim/core/crypto/hss-lms.js";\n' +
  "fwsealCrypto = { sha256: sha256, ed25519Verify: ed25519Verify, createHssVerifier: createHssVerifier };\n";

async function bundleCore(format) {
  const r = await build({
    stdin: { contents: CORE_STUB, resolveDir: repo, sourcefile: "bench-entry.ts", loader: "ts" },
    bundle: true,
    format,
    target: "es2015",
    platform: "neutral",
    banner: { js: "var fwsealCrypto;" },
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    write: false,
    logLevel: "silent",
  });
  return r.outputFiles[0].text;
}

// ES5 script defining the global fwsealCrypto = { sha256, ed25519Verify } for duk. Prefers
// the BUILD script's output (build/fwseal-core.js, global fwsealCore) when it exposes the
// Ed25519 verifier; otherwise bundles the CRYPTO sources the same way (esbuild iife es2015,
// then TypeScript 5.9 down to ES5).
async function es5Core() {
  const buildScript = path.join(repo, "scripts/build-core-es5.mjs");
  if (existsSync(buildScript)) {
    try {
      const mod = await import(buildScript);
      const outs = await mod.emitCoreEs5();
      const plain = outs[0].text;
      const probe = runDuk(plain + "\nprint(typeof fwsealCore.ed25519Verify === 'function' ? 'direct' : (fwsealCore.createPurePrimitives ? 'prims' : 'none'));\n");
      const how = probe.stdout.trim();
      if (how === "direct") return { src: plain + "\nvar fwsealCrypto = { sha256: fwsealCore.sha256, ed25519Verify: fwsealCore.ed25519Verify, createHssVerifier: fwsealCore.createHssVerifier };\n", from: "scripts/build-core-es5.mjs" };
      if (how === "prims") return { src: plain + "\nvar fwsealCrypto = fwsealCore.createPurePrimitives(); fwsealCrypto.createHssVerifier = fwsealCore.createHssVerifier;\n", from: "scripts/build-core-es5.mjs" };
    } catch {
      // fall through to the local bundle
    }
  }
  const js = await bundleCore("iife");
  const out = ts.transpileModule(js, { compilerOptions: { target: ts.ScriptTarget.ES5, removeComments: true } }).outputText;
  return { src: out, from: "bench-local esbuild+tsc ES5 bundle" };
}

let tmp = "";
function runDuk(src) {
  if (!tmp) tmp = mkdtempSync(path.join(tmpdir(), "fwseal-bench-"));
  const file = path.join(tmp, "run.js");
  writeFileSync(file, src);
  return spawnSync("duk", [file], { encoding: "utf8", maxBuffer: 1 << 24 });
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

// ms per call of each function: warm up (JIT), then 7 interleaved rounds of about minMs/7
// each; the minimum round is reported (the least disturbed by other load on the machine).
function timeInterleaved(fns, minMs) {
  for (const fn of fns) { const w0 = performance.now(); while (performance.now() - w0 < minMs / 2) fn(); }
  const best = fns.map(() => Infinity);
  for (let r = 0; r < 7; r++) {
    fns.forEach((fn, k) => {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < minMs / 7) { fn(); n++; t = performance.now(); }
      best[k] = Math.min(best[k], (t - t0) / n);
    });
  }
  return best;
}

// ---- fixture: one real signature over a 256-byte message (about a manifest's size) ----

const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
const pk = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
const msg = new Uint8Array(crypto.randomBytes(256));
const sig = new Uint8Array(crypto.sign(null, msg, privateKey));
const hex = (b) => Buffer.from(b).toString("hex");

const results = {};
let nodeCore = null; // the core's crypto bundled for Node (set below)
let dukCore = null; // the ES5 core for duk (set below when duk runs)

// ---- Node ----
{
  const modText = await bundleCore("esm");
  tmp = mkdtempSync(path.join(tmpdir(), "fwseal-bench-"));
  const modFile = path.join(tmp, "core.mjs");
  writeFileSync(modFile, modText + "\nexport default fwsealCrypto;\n");
  const core = (await import(modFile)).default;
  nodeCore = core;

  const big = new Uint8Array(crypto.randomBytes(1 << 20));
  const out = new Uint8Array(32);
  core.sha256(big, 0, big.length, out);
  if (hex(out) !== crypto.createHash("sha256").update(big).digest("hex")) throw new Error("core sha256 mismatch");
  const minMs = quick ? 700 : 2100;
  const [tOurs, tNoble, tNode] = timeInterleaved([
    () => core.sha256(big, 0, big.length, out),
    () => nobleSha256(big),
    () => crypto.createHash("sha256").update(big).digest(),
  ], minMs);
  const mb = (t) => big.length / 1048576 / (t / 1000);
  results.nodeSha256 = { oursMBs: mb(tOurs), nobleMBs: mb(tNoble), nodeCryptoMBs: mb(tNode), ratioVsNoble: tOurs / tNoble };

  if (!core.ed25519Verify(pk, sig, msg, 0, msg.length)) throw new Error("core ed25519 rejects a valid signature");
  if (!ed.verify(sig, msg, pk)) throw new Error("noble rejects");
  const [eOurs, eNoble, eNode] = timeInterleaved([
    () => core.ed25519Verify(pk, sig, msg, 0, msg.length),
    () => ed.verify(sig, msg, pk),
    () => crypto.verify(null, msg, publicKey, sig),
  ], minMs);
  results.nodeEd25519 = { oursMs: eOurs, nobleMs: eNoble, nodeCryptoMs: eNode, ratioVsNoble: eOurs / eNoble };
}

// ---- duk ----
const dukVersion = spawnSync("duk", ["-e", "print(Duktape.version)"], { encoding: "utf8" });
if (dukVersion.status !== 0) {
  results.duk = { error: "duk not found (Debian package duktape)" };
} else {
  const core = await es5Core();
  dukCore = core;
  const nacl = readFileSync(path.join(repo, "node_modules/tweetnacl/nacl-fast.js"), "utf8");
  const iters = quick ? 2 : 4;
  const rounds = quick ? 2 : 3;
  const script = [
    // nacl-fast.js only needs randomness at load time; verification never uses it.
    "var self = { crypto: { getRandomValues: function (a) { return a; } } };",
    nacl,
    "var nacl = self.nacl || this.nacl;",
    core.src,
    "function unhex(s) { var a = new Uint8Array(s.length / 2); for (var i = 0; i < a.length; i++) a[i] = parseInt(s.substr(2 * i, 2), 16); return a; }",
    `var pk = unhex("${hex(pk)}"), sig = unhex("${hex(sig)}"), msg = unhex("${hex(msg)}");`,
    "if (!fwsealCrypto.ed25519Verify(pk, sig, msg, 0, msg.length)) throw new Error('core rejects');",
    "if (!nacl.sign.detached.verify(msg, sig, pk)) throw new Error('nacl rejects');",
    "function timeOurs(n) { var t0 = Date.now(); for (var i = 0; i < n; i++) fwsealCrypto.ed25519Verify(pk, sig, msg, 0, msg.length); return (Date.now() - t0) / n; }",
    "function timeNacl(n) { var t0 = Date.now(); for (var i = 0; i < n; i++) nacl.sign.detached.verify(msg, sig, pk); return (Date.now() - t0) / n; }",
    "var buf = new Uint8Array(16384); for (var j = 0; j < buf.length; j++) buf[j] = (j * 31) & 255;",
    "var out = new Uint8Array(32);",
    "function timeSha(n) { var t0 = Date.now(); for (var i = 0; i < n; i++) fwsealCrypto.sha256(buf, 0, buf.length, out); return (Date.now() - t0) / n; }",
    "var o = [], nn = [], s = [];",
    // interleave, so both see the same machine load
    `for (var r = 0; r < ${rounds}; r++) { o.push(timeOurs(${iters} * 4)); nn.push(timeNacl(${iters})); s.push(timeSha(${iters})); }`,
    "print(JSON.stringify({ ours: o, nacl: nn, sha: s, version: Duktape.version }));",
  ].join("\n");
  const r = runDuk(script);
  if (r.status !== 0) {
    results.duk = { error: (r.stderr || r.stdout).trim().slice(0, 500) };
  } else {
    const j = JSON.parse(r.stdout.trim().split("\n").pop());
    // minimum over the interleaved rounds: the least disturbed by other load
    const ours = Math.min(...j.ours), tn = Math.min(...j.nacl), sha = Math.min(...j.sha);
    results.duk = {
      coreFrom: core.from,
      version: j.version,
      ed25519OursMs: ours,
      ed25519TweetnaclMs: tn,
      ratioVsTweetnacl: ours / tn,
      sha256OursMBs: 16384 / 1048576 / (sha / 1000),
      sha256OursMsPer4KiB: sha / 4,
    };
  }
}

// ---- HSS/LMS (RFC 8554) verification next to Ed25519 ----

const HSS_MAX_MSG = 1024;
const helpers = await loadHssHelpers();
const hssCases = hssBenchCases(helpers);
results.hss = { cases: hssCases.map((c) => ({ label: c.label, sigBytes: c.sig.length })) };

// Node: the core's verifier on its pure SHA-256 and on node:crypto's.
{
  const nodeSha = { sha256: (buf, off, len, out) => out.set(crypto.createHash("sha256").update(buf.subarray(off, off + len)).digest(), 0) };
  const vPure = nodeCore.createHssVerifier({ sha256: nodeCore.sha256, ed25519Verify: nodeCore.ed25519Verify }, HSS_MAX_MSG);
  const vNative = nodeCore.createHssVerifier(nodeSha, HSS_MAX_MSG);
  const minMs = quick ? 300 : 900;
  hssCases.forEach((c, k) => {
    const run = (v) => v.verify(c.pk, 0, c.pk.length, c.sig, 0, c.sig.length, c.msg, 0, c.msg.length);
    if (run(vPure) !== 0 || run(vNative) !== 0) throw new Error("core HSS verifier rejects " + c.label);
    const [tPure, tNative] = timeInterleaved([() => run(vPure), () => run(vNative)], minMs);
    Object.assign(results.hss.cases[k], { sha256Calls: vPure.hashCalls, nodePureMs: tPure, nodeNativeShaMs: tNative });
  });
}

// duk: the ES5 core, pure SHA-256, in one duk process.
if (dukCore) {
  const n = quick ? 1 : 3;
  const script = [
    dukCore.src,
    "function unhex(s) { var a = new Uint8Array(s.length / 2); for (var i = 0; i < a.length; i++) a[i] = parseInt(s.substr(2 * i, 2), 16); return a; }",
    `var v = fwsealCrypto.createHssVerifier({ sha256: fwsealCrypto.sha256, ed25519Verify: fwsealCrypto.ed25519Verify }, ${HSS_MAX_MSG});`,
    `var cases = [${hssCases.map((c) => `[unhex("${hex(c.pk)}"), unhex("${hex(c.sig)}"), unhex("${hex(c.msg)}")]`).join(",")}];`,
    "var out = [];",
    "for (var k = 0; k < cases.length; k++) {",
    "  var c = cases[k];",
    "  if (v.verify(c[0], 0, c[0].length, c[1], 0, c[1].length, c[2], 0, c[2].length) !== 0) throw new Error('core rejects case ' + k);",
    `  var t0 = Date.now(); for (var i = 0; i < ${n}; i++) v.verify(c[0], 0, c[0].length, c[1], 0, c[1].length, c[2], 0, c[2].length);`,
    `  out.push({ ms: (Date.now() - t0) / ${n}, calls: v.hashCalls });`,
    "}",
    "print(JSON.stringify(out));",
  ].join("\n");
  const r = runDuk(script);
  if (r.status !== 0) results.hss.dukError = (r.stderr || r.stdout).trim().slice(0, 500);
  else JSON.parse(r.stdout.trim().split("\n").pop()).forEach((o, k) => { results.hss.cases[k].dukMs = o.ms; });
}

// Espruino (ESPRUINO_BIN): the minified core loaded through Storage, native one-shot SHA-256,
// CPU time of the process from /proc (10 ms steps, so several runs per case).
const espruino = process.env.ESPRUINO_BIN ?? "";
if (!espruino) {
  results.hss.espruino = { skipped: "ESPRUINO_BIN is not set" };
} else {
  const built = spawnSync(process.execPath, ["scripts/build-core-es5.mjs", "--quiet"], { cwd: repo, encoding: "utf8" });
  if (built.status !== 0) throw new Error("core build failed: " + built.stderr);
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-bench-espruino-"));
  const n = quick ? 2 : 5;
  const inputs = [[pk, sig, msg], ...hssCases.map((c) => [c.pk, c.sig, c.msg])].map((xs, k) => {
    const f = path.join(dir, `in${k}.txt`);
    writeFileSync(f, xs.map(hex).join(" "));
    return f;
  });
  const script = [
    helpers.espruinoCoreLoader(),
    helpers.ESPRUINO_CPU_MS,
    `var files = ${JSON.stringify(inputs)};`,
    "function load(k) { var p = require('fs').readFileSync(files[k]).split(' '); return [fwsealCore.hexToBytes(p[0]), fwsealCore.hexToBytes(p[1]), fwsealCore.hexToBytes(p[2])]; }",
    "var e = load(0), t0 = cpuMs();",
    "var okEd = fwsealCore.ed25519Verify(e[0], e[1], e[2], 0, e[2].length);",
    "print('@@ED ' + okEd + ' ' + (cpuMs() - t0));",
    "e = undefined;",
    `var v = fwsealCore.createHssVerifier(${helpers.ESPRUINO_NATIVE_PRIMITIVES}, ${HSS_MAX_MSG});`,
    "for (var k = 1; k < files.length; k++) {",
    "  var c = load(k), rc = 0;",
    `  t0 = cpuMs(); for (var i = 0; i < ${n}; i++) rc |= v.verify(c[0], 0, c[0].length, c[1], 0, c[1].length, c[2], 0, c[2].length);`,
    `  print('@@HSS ' + rc + ' ' + ((cpuMs() - t0) / ${n}) + ' ' + v.hashCalls);`,
    "}",
    "print('@@MEM ' + process.memory().usage);",
  ].join("\n");
  writeFileSync(path.join(dir, "run.js"), script);
  const r = spawnSync(espruino, [path.join(dir, "run.js")], { cwd: dir, encoding: "utf8", input: "", maxBuffer: 1 << 24, timeout: 900000 });
  rmSync(dir, { recursive: true, force: true });
  const lines = (r.stdout || "").split("\n").filter((l) => l.startsWith("@@"));
  const ed = lines.find((l) => l.startsWith("@@ED "));
  const hssLines = lines.filter((l) => l.startsWith("@@HSS "));
  if (!ed || ed.split(" ")[1] !== "true" || hssLines.length !== hssCases.length || hssLines.some((l) => l.split(" ")[1] !== "0")) {
    results.hss.espruino = { error: ((r.stdout || "") + (r.stderr || "")).trim().slice(-500) };
  } else {
    results.hss.espruino = { ed25519CpuMs: Number(ed.split(" ")[2]), runsPerCase: n };
    hssLines.forEach((l, k) => { results.hss.cases[k].espruinoCpuMs = Number(l.split(" ")[2]); results.hss.cases[k].espruinoCalls = Number(l.split(" ")[3]); });
  }
}
if (tmp) rmSync(tmp, { recursive: true, force: true });

if (asJson) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const f = (x, d = 2) => (typeof x === "number" ? x.toFixed(d) : String(x));
  const ok = (b) => (b ? "MET" : "MISSED");
  const n = results.nodeSha256, e = results.nodeEd25519, d = results.duk;
  const rows = [
    ["engine", "measure", "fwseal core", "reference", "ratio (time)", "goal"],
    ["node", "SHA-256, 1 MiB one-shot", f(n.oursMBs, 1) + " MB/s", "@noble/hashes " + f(n.nobleMBs, 1) + " MB/s", f(n.ratioVsNoble) + "x",
      "<= " + GOAL_SHA_NODE + "x: " + ok(n.ratioVsNoble <= GOAL_SHA_NODE)],
    ["node", "  (node:crypto native)", "", f(n.nodeCryptoMBs, 0) + " MB/s", "", ""],
    ["node", "Ed25519 verify, 256 B msg", f(e.oursMs, 3) + " ms", "@noble/ed25519 " + f(e.nobleMs, 3) + " ms", f(e.ratioVsNoble) + "x", "(info)"],
    ["node", "  (node:crypto native)", "", f(e.nodeCryptoMs, 3) + " ms", "", ""],
  ];
  if (d.error) rows.push(["duk", "error", d.error, "", "", ""]);
  else {
    rows.push(["duk " + d.version, "Ed25519 verify, 256 B msg", f(d.ed25519OursMs, 1) + " ms", "tweetnacl " + f(d.ed25519TweetnaclMs, 1) + " ms",
      f(d.ratioVsTweetnacl) + "x", "<= " + GOAL_ED_DUK + "x: " + ok(d.ratioVsTweetnacl <= GOAL_ED_DUK)]);
    rows.push(["duk " + d.version, "SHA-256, 16 KiB one-shot", f(d.sha256OursMBs, 2) + " MB/s", "(" + f(d.sha256OursMsPer4KiB, 1) + " ms per 4 KiB chunk)", "", "(info)"]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((x, c) => x.padEnd(w[c])).join("  ").trimEnd());
  if (!d.error) console.log("duk core source: " + d.coreFrom);
  // HSS/LMS next to Ed25519: per case, time per verification and the Ed25519 / HSS ratio.
  const h = results.hss, esp = h.espruino;
  const hr = [["HSS/LMS verify (core)", "sig B", "sha256 calls", "node (pure sha)", "node (node:crypto sha)", "duk (pure sha)", "espruino CPU (native sha)"]];
  hr.push(["Ed25519 verify (core), 256 B msg", "64", "-", f(e.oursMs, 3) + " ms", "-", d.error ? "-" : f(d.ed25519OursMs, 1) + " ms",
    esp.ed25519CpuMs !== undefined ? f(esp.ed25519CpuMs, 0) + " ms" : "-"]);
  for (const c of h.cases) {
    const ratio = (ed, t) => (typeof t === "number" && t > 0 ? " (" + f(ed / t, 1) + "x)" : "");
    hr.push([c.label, String(c.sigBytes), String(c.sha256Calls),
      f(c.nodePureMs, 3) + " ms" + ratio(e.oursMs, c.nodePureMs),
      f(c.nodeNativeShaMs, 3) + " ms" + ratio(e.oursMs, c.nodeNativeShaMs),
      c.dukMs !== undefined ? f(c.dukMs, 1) + " ms" + ratio(d.ed25519OursMs, c.dukMs) : "-",
      c.espruinoCpuMs !== undefined ? f(c.espruinoCpuMs, 0) + " ms" + ratio(esp.ed25519CpuMs, c.espruinoCpuMs) : "-"]);
  }
  console.log("");
  const hw = hr[0].map((_, c) => Math.max(...hr.map((r) => r[c].length)));
  for (const r of hr) console.log(r.map((x, c) => x.padEnd(hw[c])).join("  ").trimEnd());
  console.log("(x) = Ed25519 time / HSS time on that engine (Ed25519 always by the core, pure JS)");
  if (h.dukError) console.log("duk HSS error: " + h.dukError);
  if (esp.skipped) console.log("espruino: skipped (" + esp.skipped + ")");
  if (esp.error) console.log("espruino error: " + esp.error);
  if (esp.runsPerCase) console.log("espruino: CPU time from /proc/self/stat, mean of " + esp.runsPerCase + " runs per HSS case, one Ed25519 run");
}

