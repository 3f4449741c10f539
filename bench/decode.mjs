#!/usr/bin/env node
// Payload decoder benchmark (SPEC §15): the device core's PayloadDecoder on a 64 KiB
// firmware-like image, on Node (the TypeScript sources, bundled by esbuild) and on duk
// (Duktape 2.7, the ES5 core build emitted in memory).
//  - compressed: wire chunks of 4096 bytes, each the longest image run whose raw deflate
//    (level 9, window 12, memLevel 9) fits, zero-padded (the host's chunked deflate);
//  - delta: a patch from the image to a version with 256 changed bytes and 1 KiB inserted,
//    deflated the same way: as two add ranges over the whole image (add path: precursor reads +
//    sums, plus inflate), and as the host's delta encoder writes it (copy path: the unchanged
//    runs are copies, block reads with no sums).
// With ESPRUINO_BIN (an Espruino Linux build), the same runs on Espruino too (the core from
// Storage, wire chunks read from files; CPU time of the chunk() calls only).
// Not a test and not wired into npm scripts: prints a table. Options: --json.
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import crypto from "node:crypto";
import { deflateRawSync } from "node:zlib";
import { build } from "esbuild";
import { emitCoreEs5, buildCoreEs5 } from "../scripts/build-core-es5.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const asJson = process.argv.includes("--json");
const IMAGE = 65536;
const CHUNK = 4096;
const WINDOW = 12;

// The decoder and the test inputs, straight from the TypeScript sources.
const tmp = mkdtempSync(path.join(tmpdir(), "fwseal-bench-decode-"));
const bundled = await build({
  stdin: {
    contents: 'export * from "./test/helpers/payload-cases.ts";\nexport { PayloadDecoder } from "./device-sim/core/decode/payload-decoder.ts";\n' +
      'export { espruinoCoreLoader, ESPRUINO_CPU_MS } from "./test/helpers/espruino-scripts.ts";\n' +
      'export { diffImages } from "./host/payload/delta.ts";\n',
    resolveDir: repo, loader: "ts", sourcefile: "bench-decode-entry.ts",
  },
  bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent",
});
// Written two levels below the repository root: the helpers find the root from their own URL.
mkdirSync(path.join(repo, "build/bench"), { recursive: true });
const modFile = path.join(repo, "build/bench/decode-bundle.mjs");
writeFileSync(modFile, bundled.outputFiles[0].text);
const { PayloadDecoder, firmwareLikeImage, encodePatch, rng, espruinoCoreLoader, ESPRUINO_CPU_MS, diffImages } = await import(pathToFileURL(modFile).href);
const espruino = process.env.ESPRUINO_BIN || "";
if (espruino) await buildCoreEs5({ quiet: true }); // the loader reads build/fwseal-core.min.js

const deflate = (b) => new Uint8Array(deflateRawSync(b, { level: 9, windowBits: WINDOW, memLevel: 9 }));

// The host's chunked deflate: per wire chunk, the longest input run that fits CHUNK bytes.
function chunkedDeflate(data) {
  const chunks = [];
  let p = 0;
  while (p < data.length) {
    let lo = 1, hi = data.length - p;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (deflate(data.subarray(p, p + mid)).length <= CHUNK) lo = mid; else hi = mid - 1;
    }
    const d = deflate(data.subarray(p, p + lo));
    p += lo;
    const c = new Uint8Array(p < data.length ? CHUNK : d.length);
    c.set(d);
    chunks.push(c);
  }
  return chunks;
}

const img = firmwareLikeImage(IMAGE, 1);
const r = rng(7);
const changed = new Uint8Array(img);
for (let i = 0; i < 256; i++) changed[r() % IMAGE] ^= 1 + (r() % 255);
const inserted = new Uint8Array(1024).map(() => r() & 255);
const newImg = new Uint8Array(IMAGE + 1024);
newImg.set(changed.subarray(0, 30000)); newImg.set(inserted, 30000); newImg.set(changed.subarray(30000), 31024);
const diff = (a, b) => a.map((x, i) => (x - b[i]) & 255);
const patch = encodePatch([
  { diff: diff(changed.subarray(0, 30000), img.subarray(0, 30000)), literal: inserted, seek: 0 },
  { diff: diff(changed.subarray(30000), img.subarray(30000)), literal: new Uint8Array(0), seek: 0 },
]);

const cases = [
  { name: "compressed", params: { encoding: 1, codec: 1, windowBits: WINDOW, imageSize: IMAGE, precursorSize: 0 }, chunks: chunkedDeflate(img), image: img },
  { name: "delta (deflated patch)", params: { encoding: 3, codec: 1, windowBits: WINDOW, imageSize: newImg.length, precursorSize: IMAGE }, chunks: chunkedDeflate(patch), image: newImg },
  { name: "delta (copies, deflated)", params: { encoding: 3, codec: 1, windowBits: WINDOW, imageSize: newImg.length, precursorSize: IMAGE }, chunks: chunkedDeflate(diffImages(img, newImg)), image: newImg },
];

const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");

function nodeRun(c, sink) {
  const d = new PayloadDecoder(WINDOW);
  d.start(c.params);
  for (const ch of c.chunks) if (d.chunk(ch, 0, ch.length, sink) !== 0) throw new Error("decode failed");
  if (d.finish() !== 0) throw new Error("finish failed");
}

// Espruino: the script text stays small (the pool holds ~12,000 variables): the precursor
// goes to Storage (as the running image in flash), the wire chunks are files read one at a time. Returns CPU ms of the chunk() calls.
function espruinoRun(c) {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-bench-esp-"));
  try {
    writeFileSync(path.join(dir, "pre.bin"), img);
    c.chunks.forEach((ch, k) => writeFileSync(path.join(dir, "c" + k + ".bin"), ch));
    const script = espruinoCoreLoader() + ESPRUINO_CPU_MS + `
var C = fwsealCore, fs = require("fs");
var S = require("Storage");
(function () {
  var f = E.openFile(${JSON.stringify(path.join(dir, "pre.bin"))}, "r"), off = 0, piece;
  while ((piece = f.read(1024))) { S.write("pre", piece, off, ${img.length}); off += piece.length; }
  f.close();
})();
var n = 0, ms = 0, r = 0;
var sink = { output: function (b, o, l) { n += l; }, readPrecursor: function (pos, b, o, l) { b.set(E.toUint8Array(S.read("pre", pos, l)), o); } };
var d = new C.PayloadDecoder(${WINDOW});
d.start(${JSON.stringify(c.params)});
for (var k = 0; k < ${c.chunks.length} && r === 0; k++) {
  var data = E.toUint8Array(fs.readFileSync(${JSON.stringify(dir)} + "/c" + k + ".bin"));
  var t0 = cpuMs();
  r = d.chunk(data, 0, data.length, sink);
  ms += cpuMs() - t0;
}
if (r === 0) r = d.finish();
print("@@esp " + r + " " + n + " " + ms);
`;
    writeFileSync(path.join(dir, "run.js"), script);
    const res = spawnSync(espruino, [path.join(dir, "run.js")], { cwd: dir, encoding: "utf8", input: "", timeout: 600_000 });
    const line = (res.stdout || "").split("\n").find((l) => l.startsWith("@@esp "));
    if (!line) throw new Error("Espruino: " + (res.stdout + res.stderr).slice(-600));
    const [, reason, n, ms] = line.split(" ");
    if (reason !== "0" || Number(n) !== c.image.length) throw new Error("Espruino: " + line);
    return Number(ms);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
const core = (await emitCoreEs5())[0].text;
const hex = (b) => Buffer.from(b).toString("hex");
for (const c of cases) {
  const wire = c.chunks.reduce((n, ch) => n + ch.length, 0);
  // Node: check the output once, then time.
  const parts = [];
  nodeRun(c, { output: (b, o, l) => parts.push(Buffer.from(b.subarray(o, o + l))), readPrecursor: (pos, b, o, l) => b.set(img.subarray(pos, pos + l), o) });
  if (sha(Buffer.concat(parts)) !== sha(c.image)) throw new Error(c.name + ": wrong output on Node");
  const nullSink = { output() {}, readPrecursor: (pos, b, o, l) => b.set(img.subarray(pos, pos + l), o) };
  for (let i = 0; i < 20; i++) nodeRun(c, nullSink);
  const times = [];
  for (let i = 0; i < 50; i++) { const t0 = process.hrtime.bigint(); nodeRun(c, nullSink); times.push(Number(process.hrtime.bigint() - t0) / 1e6); }
  times.sort((a, b) => a - b);
  const nodeMs = times[times.length >> 1];
  // duk: one checked run (SHA-256 of the output by the core), then timed runs with a null sink.
  const script = `
var C = fwsealCore;
var pre = C.hexToBytes(${JSON.stringify(hex(img))});
var chunks = ${JSON.stringify(c.chunks.map(hex))}.map(function (h) { return C.hexToBytes(h); });
var p = ${JSON.stringify(c.params)};
function run(sink) {
  var d = new C.PayloadDecoder(${WINDOW});
  d.start(p);
  for (var k = 0; k < chunks.length; k++) if (d.chunk(chunks[k], 0, chunks[k].length, sink) !== 0) throw new Error("decode failed");
  if (d.finish() !== 0) throw new Error("finish failed");
}
var h = new C.Sha256(); h.init();
run({ output: function (b, o, l) { h.update(b, o, l); }, readPrecursor: function (pos, b, o, l) { b.set(pre.subarray(pos, pos + l), o); } });
var dg = new Uint8Array(32); h.final(dg, 0);
print("sha " + C.bytesToHex(dg, 0, 32));
var nul = { output: function () {}, readPrecursor: function (pos, b, o, l) { b.set(pre.subarray(pos, pos + l), o); } };
var best = 1e9;
for (var i = 0; i < 5; i++) { var t0 = Date.now(); run(nul); var t = Date.now() - t0; if (t < best) best = t; }
print("ms " + best);
`;
  const f = path.join(tmp, "run.js");
  writeFileSync(f, core + "\n" + script);
  const res = spawnSync("duk", [f], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error("duk: " + res.stderr + res.stdout);
  const out = Object.fromEntries(res.stdout.trim().split("\n").map((l) => l.split(" ")));
  if (out.sha !== sha(c.image)) throw new Error(c.name + ": wrong output on duk");
  const dukMs = Number(out.ms);
  const row = { case: c.name, imageBytes: c.image.length, wireBytes: wire, wireChunks: c.chunks.length, nodeMs, dukMs,
    nodeMBps: c.image.length / 1e3 / nodeMs, dukKBps: c.image.length / dukMs / 1.024 };
  if (espruino) row.espruinoMs = espruinoRun(c);
  rows.push(row);
}
rmSync(tmp, { recursive: true, force: true });

if (asJson) {
  process.stdout.write(JSON.stringify({ window: WINDOW, chunkSize: CHUNK, decoderBytes: (1 << WINDOW) + 1956, rows }) + "\n");
} else {
  process.stdout.write(`PayloadDecoder(${WINDOW}): ${(1 << WINDOW) + 1956} bytes of typed arrays; wire chunks of ${CHUNK} bytes\n`);
  process.stdout.write("case                     image   wire (chunks)   Node ms  (MB/s)   duk ms  (KiB/s)\n");
  for (const w of rows) {
    process.stdout.write(`${w.case.padEnd(24)} ${String(w.imageBytes).padStart(6)}  ${String(w.wireBytes).padStart(6)} (${String(w.wireChunks).padStart(2)})    ${w.nodeMs.toFixed(2).padStart(6)}  (${w.nodeMBps.toFixed(0).padStart(4)})   ${String(w.dukMs).padStart(6)}  (${w.dukKBps.toFixed(0).padStart(5)})` +
      (w.espruinoMs !== undefined ? `   Espruino ${w.espruinoMs} ms CPU (${(w.imageBytes / w.espruinoMs / 1.024).toFixed(1)} KiB/s)` : "") + "\n");
  }
}
