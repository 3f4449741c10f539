// The payload decoder (SPEC §15) of the ES5 core build in Duktape (`duk`) gives the same
// verdict, failing step, output length and output SHA-256 as the TypeScript decoder on Node,
// for compressed and delta payloads (copies included, and the host encoder's patches), corrupt
// streams, and a resume from a saved state.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { constants as zc } from "node:zlib";
import { PayloadDecoder, DECODER_STATE_LEN } from "../../device-sim/core/decode/payload-decoder.js";
import type { PayloadParams, PayloadSink } from "../../device-sim/core/decode/payload-decoder.js";
import { reasonName } from "../../formats/device-safe/reasons.js";
import { ES5_HEX_CODEC, emitCore, hex, runDuk } from "../helpers/engines.js";
import {
  cut, deflate, deflateChunks, encodePatch, firmwareLikeImage, randomBytes, randomRecords, rng, textBytes, applyPatchReference,
} from "../helpers/payload-cases.js";
import { diffImages } from "../../host/payload/delta.js";

interface Case { id: string; p: PayloadParams; maxW: number; chunks: Uint8Array[]; precursor: Uint8Array; resumeAt: number }

/** Node run: "<reason> <failed step> <bytes out> <sha256 of the output>" (the duk runner prints the same). */
function runOnNode(c: Case): string {
  const h = createHash("sha256");
  let n = 0;
  const sink: PayloadSink = {
    output(b, o, l) { h.update(b.subarray(o, o + l)); n += l; },
    readPrecursor(pos, b, o, l) { b.set(c.precursor.subarray(pos, pos + l), o); },
  };
  let d = new PayloadDecoder(c.maxW);
  let r = d.start(c.p);
  let at = -2;
  if (r === 0) {
    at = -1;
    for (let k = 0; k < c.chunks.length; k++) {
      if (k === c.resumeAt) {
        const st = new Uint8Array(DECODER_STATE_LEN);
        d.saveState(st, 0);
        d = new PayloadDecoder(c.maxW);
        d.start(c.p);
        r = d.loadState(st, 0);
        if (r !== 0) { at = k; break; }
      }
      r = d.chunk(c.chunks[k], 0, c.chunks[k].length, sink);
      if (r !== 0) { at = k; break; }
    }
    if (r === 0) {
      r = d.finish();
      if (r !== 0) at = c.chunks.length;
    }
  }
  return [reasonName(r), at, n, h.digest("hex")].join(" ");
}

const DUK_RUNNER = `
var C = fwsealCore;
function runCase(id, p, maxW, chunkHex, preHex, resumeAt) {
  var pre = fromHex(preHex);
  var h = new C.Sha256();
  h.init();
  var n = 0;
  var sink = {
    output: function (b, o, l) { h.update(b, o, l); n += l; },
    readPrecursor: function (pos, b, o, l) { b.set(pre.subarray(pos, pos + l), o); }
  };
  var d = new C.PayloadDecoder(maxW);
  var r = d.start(p);
  var at = -2;
  var k, data, st;
  if (r === 0) {
    at = -1;
    for (k = 0; k < chunkHex.length; k++) {
      if (k === resumeAt) {
        st = new Uint8Array(C.DECODER_STATE_LEN);
        d.saveState(st, 0);
        d = new C.PayloadDecoder(maxW);
        d.start(p);
        r = d.loadState(st, 0);
        if (r !== 0) { at = k; break; }
      }
      data = fromHex(chunkHex[k]);
      r = d.chunk(data, 0, data.length, sink);
      if (r !== 0) { at = k; break; }
    }
    if (r === 0) {
      r = d.finish();
      if (r !== 0) at = chunkHex.length;
    }
  }
  var dg = new Uint8Array(32);
  h.final(dg, 0);
  print("@@case " + id + " " + C.reasonName(r) + " " + at + " " + n + " " + toHex(dg));
}
`;

function buildCases(): Case[] {
  const cases: Case[] = [];
  const none = new Uint8Array(0);
  const comp = (imageSize: number, w: number): PayloadParams => ({ encoding: 1, codec: 1, windowBits: w, imageSize, precursorSize: 0 });
  const fw = firmwareLikeImage(48000, 17);
  for (const w of [9, 12, 15]) {
    cases.push({ id: "fw-w" + w, p: comp(fw.length, w), maxW: 15, chunks: deflateChunks(fw, 4096, { level: 9, windowBits: w }, 2), precursor: none, resumeAt: -1 });
    cases.push({ id: "fw-w" + w + "-ring-w", p: comp(fw.length, w), maxW: w, chunks: deflateChunks(fw, 8192, { level: 6, windowBits: w }), precursor: none, resumeAt: 3 });
  }
  const rnd = randomBytes(8000, 5);
  cases.push({ id: "stored", p: comp(rnd.length, 9), maxW: 9, chunks: deflateChunks(rnd, 3000, { level: 0, windowBits: 9 }), precursor: none, resumeAt: -1 });
  const txt = textBytes(20000, 6);
  for (const [sname, strategy] of [["fixed", zc.Z_FIXED], ["huffman", zc.Z_HUFFMAN_ONLY], ["rle", zc.Z_RLE]] as [string, number][]) {
    cases.push({ id: "text-" + sname, p: comp(txt.length, 11), maxW: 12, chunks: deflateChunks(txt, 5000, { level: 9, windowBits: 11, strategy }), precursor: none, resumeAt: -1 });
  }
  cases.push({ id: "too-large", p: comp(txt.length, 13), maxW: 12, chunks: [], precursor: none, resumeAt: -1 });
  cases.push({ id: "too-short", p: comp(txt.length + 1, 11), maxW: 12, chunks: deflateChunks(txt, 5000, { level: 1, windowBits: 11 }), precursor: none, resumeAt: -1 });
  cases.push({ id: "too-long", p: comp(txt.length - 1, 11), maxW: 12, chunks: deflateChunks(txt, 5000, { level: 1, windowBits: 11 }), precursor: none, resumeAt: -1 });
  // Corrupt streams: bit flips, a truncation, non-zero padding, reserved block type.
  const r = rng(5150);
  const base = deflate(fw.subarray(0, 6000), { level: 9, windowBits: 12 });
  for (let t = 0; t < 24; t++) {
    const s = new Uint8Array(base);
    s[r() % s.length] ^= 1 << (r() % 8);
    cases.push({ id: "flip-" + t, p: comp(6000, 12), maxW: 12, chunks: [s], precursor: none, resumeAt: -1 });
  }
  const padded = new Uint8Array(base.length + 3); padded.set(base); padded[base.length + 2] = 1;
  cases.push({ id: "pad", p: comp(6000, 12), maxW: 12, chunks: [padded], precursor: none, resumeAt: -1 });
  cases.push({ id: "truncated", p: comp(6000, 12), maxW: 12, chunks: [base.subarray(0, base.length - 1)], precursor: none, resumeAt: -1 });
  cases.push({ id: "btype3", p: comp(6000, 12), maxW: 12, chunks: [new Uint8Array([7, 0])], precursor: none, resumeAt: -1 });
  // Delta: random patches over a firmware-like precursor, codec 0 and deflate, with a resume.
  const old = firmwareLikeImage(16000, 23);
  for (let t = 0; t < 4; t++) {
    const patch = encodePatch(randomRecords(old, 30, 40 + t));
    const img = applyPatchReference(old, patch, -1) as Uint8Array;
    const d = (codec: number, w: number): PayloadParams => ({ encoding: 3, codec, windowBits: w, imageSize: img.length, precursorSize: old.length });
    cases.push({ id: "delta-plain-" + t, p: d(0, 0), maxW: 9, chunks: cut(patch, [1 + t, 500, 3]), precursor: old, resumeAt: 4 });
    cases.push({ id: "delta-deflate-" + t, p: d(1, 10 + t), maxW: 15, chunks: deflateChunks(patch, 700, { level: 9, windowBits: 10 + t }), precursor: old, resumeAt: 2 });
  }
  const dp = (imageSize: number): PayloadParams => ({ encoding: 3, codec: 0, windowBits: 0, imageSize, precursorSize: old.length });
  const rec = (add: number, lit: number[], seek: number) => ({ diff: new Uint8Array(add), literal: new Uint8Array(lit), seek });
  cases.push({ id: "delta-add-outside", p: dp(100), maxW: 9, chunks: [encodePatch([rec(0, [], 15990), rec(20, [], 0)])], precursor: old, resumeAt: -1 });
  cases.push({ id: "delta-beyond-image", p: dp(10), maxW: 9, chunks: [encodePatch([rec(8, [1, 2, 3], 0)])], precursor: old, resumeAt: -1 });
  cases.push({ id: "delta-partial", p: dp(10), maxW: 9, chunks: [encodePatch([rec(8, [1, 2], 0)]).subarray(0, 6)], precursor: old, resumeAt: -1 });
  cases.push({ id: "delta-varint6", p: dp(10), maxW: 9, chunks: [new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0])], precursor: old, resumeAt: -1 });
  // Copies: a whole-image copy, a copy range outside the precursor, a copy past image-size, a
  // seek out of the 32-bit range, and the host encoder's patch of a changed image, resumed.
  const cp = (copy: number, add: number, lit: number[], seek: number) => ({ copy, diff: new Uint8Array(add).fill(1), literal: new Uint8Array(lit), seek });
  cases.push({ id: "delta-copy-all", p: dp(old.length), maxW: 9, chunks: cut(encodePatch([cp(old.length, 0, [], 0)]), [1]), precursor: old, resumeAt: 2 });
  cases.push({ id: "delta-copy-outside", p: dp(100), maxW: 9, chunks: [encodePatch([cp(10, 0, [1], 15980), cp(5, 6, [], 0)])], precursor: old, resumeAt: -1 });
  cases.push({ id: "delta-copy-beyond-image", p: dp(300), maxW: 9, chunks: [encodePatch([cp(500, 2, [], 0)])], precursor: old, resumeAt: -1 });
  cases.push({ id: "delta-seek-overflow", p: dp(20), maxW: 9, chunks: cut(encodePatch([cp(10, 0, [], 2 ** 31 - 11), cp(0, 0, [1], 1)]), [3]), precursor: old, resumeAt: 1 });
  const changed = new Uint8Array(old.length + 30);
  changed.set(old.subarray(0, 9000));
  changed.set(randomBytes(30, 77), 9000);
  changed.set(old.subarray(9000), 9030);
  for (let i = 2000; i < 2400; i += 37) changed[i] ^= 0x10;
  const hostPatch = diffImages(old, changed);
  cases.push({ id: "delta-host-plain", p: dp(changed.length), maxW: 9, chunks: cut(hostPatch, [7, 2, 40]), precursor: old, resumeAt: 9 });
  cases.push({ id: "delta-host-deflate", p: { encoding: 3, codec: 1, windowBits: 12, imageSize: changed.length, precursorSize: old.length }, maxW: 12,
    chunks: deflateChunks(hostPatch, 64, { level: 9, windowBits: 12 }), precursor: old, resumeAt: 2 });
  return cases;
}

describe("payload decoder on duk (ES5 build) agrees with Node", () => {
  let core = "";
  beforeAll(async () => {
    core = await emitCore();
  });

  it("same verdicts, failing steps and output SHA-256 for compressed, delta, corrupt and resumed payloads", () => {
    const cases = buildCases();
    const want = cases.map((c) => "@@case " + c.id + " " + runOnNode(c));
    const verdicts = new Set(want.map((l) => l.split(" ")[2]));
    for (const v of ["OK", "BAD_PAYLOAD", "RESULT_MISMATCH", "TOO_LARGE"]) expect(verdicts.has(v), v).toBe(true);
    const verdictOf = (id: string) => want.find((l) => l.split(" ")[1] === id)?.split(" ")[2];
    const copyVerdicts = { "delta-copy-all": "OK", "delta-copy-outside": "BAD_PAYLOAD", "delta-copy-beyond-image": "RESULT_MISMATCH",
      "delta-seek-overflow": "BAD_PAYLOAD", "delta-host-plain": "OK", "delta-host-deflate": "OK" };
    for (const [id, v] of Object.entries(copyVerdicts)) expect(verdictOf(id), id).toBe(v);
    const calls = cases.map((c) => "runCase(" + JSON.stringify(c.id) + ", " + JSON.stringify(c.p) + ", " + c.maxW + ", " +
      JSON.stringify(c.chunks.map((x) => hex(x))) + ", " + JSON.stringify(hex(c.precursor)) + ", " + c.resumeAt + ");").join("\n");
    const got = runDuk([core, ES5_HEX_CODEC + DUK_RUNNER, calls]).filter((l) => l.startsWith("@@case "));
    expect(got).toEqual(want);
  }, 300_000);
});
