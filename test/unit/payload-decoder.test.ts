// The device payload decoder (SPEC §15) against node:zlib and an independent patch applier:
// byte-exact output for every zlib level, window and strategy, independent chunks, every
// invalid-stream case as BAD_PAYLOAD (never a throw), the patch interpreter's checks, and
// resume from the saved state at every chunk boundary.
import { describe, it, expect } from "vitest";
import { constants as zc, inflateRawSync } from "node:zlib";
import { PayloadDecoder, DECODER_STATE_LEN, PAYLOAD_DECODER_FIXED_BYTES, payloadDecoderBytes } from "../../device-sim/core/decode/payload-decoder.js";
import type { PayloadParams } from "../../device-sim/core/decode/payload-decoder.js";
import { Inflater, INFLATE_TABLE_BYTES, INFLATE_CONST_BYTES } from "../../device-sim/core/decode/inflate.js";
import { PATCH_BUFFER_LEN, PATCH_STATE_LEN } from "../../device-sim/core/decode/patch.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import {
  CollectSink, applyPatchReference, cut, decodeChunks, deflate, deflateChunks, encodePatch, firmwareLikeImage,
  randomBytes, randomRecords, rng, textBytes, uvarint, svarint,
} from "../helpers/payload-cases.js";
import type { PatchRecord } from "../helpers/payload-cases.js";

const BIG = 0x7fffffff;
const compressed = (imageSize: number, windowBits: number): PayloadParams =>
  ({ encoding: 1, codec: 1, windowBits, imageSize, precursorSize: 0 });
const delta = (imageSize: number, precursorSize: number, codec = 0, windowBits = 0): PayloadParams =>
  ({ encoding: 3, codec, windowBits, imageSize, precursorSize });
const name = (r: number) => reasonName(r);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Decodes one chunk of codec-1 data with a fresh decoder (image size unbounded). */
function inflateOne(data: Uint8Array, windowBits = 15, maxWindowBits = 15): { reason: number; output: Uint8Array } {
  const d = new PayloadDecoder(maxWindowBits);
  expect(d.start(compressed(BIG, windowBits))).toBe(Reason.OK);
  const sink = new CollectSink();
  const reason = d.chunk(data, 0, data.length, sink);
  return { reason, output: sink.bytes() };
}

// Bits least significant first (RFC 1951 §3.1.1); Huffman codes most significant bit first.
class BitWriter {
  bytes: number[] = [];
  nbits = 0;
  bits(v: number, n: number): this {
    for (let i = 0; i < n; i++) {
      if ((this.nbits & 7) === 0) this.bytes.push(0);
      if ((v >>> i) & 1) this.bytes[this.bytes.length - 1] |= 1 << (this.nbits & 7);
      this.nbits++;
    }
    return this;
  }
  code(c: number, len: number): this {
    for (let i = len - 1; i >= 0; i--) this.bits((c >>> i) & 1, 1);
    return this;
  }
  done(): Uint8Array { return new Uint8Array(this.bytes); }
}

function fixedLit(w: BitWriter, s: number): void {
  if (s < 144) w.code(0x30 + s, 8);
  else if (s < 256) w.code(0x190 + s - 144, 9);
  else if (s < 280) w.code(s - 256, 7);
  else w.code(0xc0 + s - 280, 8);
}

/** Canonical codes of a list of code lengths (RFC 1951 §3.2.2), computed here for crafting streams. */
function canonical(lens: number[]): number[] {
  const blCount = new Array(16).fill(0);
  for (const l of lens) if (l) blCount[l]++;
  const next = new Array(16).fill(0);
  let code = 0;
  for (let b = 1; b < 16; b++) { next[b] = code; code = (code + blCount[b]) << 1; }
  return lens.map((l) => (l ? next[l]++ : -1));
}

// A complete code-length code with the run-length symbols: 0, 1, 16 in 2 bits, 17, 18 in 3.
const CL_RLE = new Array(19).fill(0).map((_, s) => (s === 0 || s === 1 || s === 16 ? 2 : s === 17 || s === 18 ? 3 : 0));
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A dynamic block header: code-length code = 4-bit codes for 0..15 (clen overrides it),
 * then the lengths one by one (or the code-length symbols `seq`, [symbol, extra bits, extra]).
 */
function dynamicHeader(w: BitWriter, last: number, lit: number[], dist: number[], clen?: number[], seq?: number[][]): void {
  w.bits(last, 1).bits(2, 2);
  w.bits(lit.length - 257, 5).bits(dist.length - 1, 5).bits(19 - 4, 4);
  const cl = clen ?? new Array(19).fill(0).map((_, s) => (s < 16 ? 4 : 0));
  for (const s of CLEN_ORDER) w.bits(cl[s], 3);
  const codes = canonical(cl);
  if (seq) {
    for (const [s, extraBits, extra] of seq) { w.code(codes[s], cl[s]); if (extraBits) w.bits(extra, extraBits); }
    return;
  }
  for (const l of [...lit, ...dist]) w.code(codes[l], cl[l]);
}

describe("payload decoder: inflate agrees with node:zlib", () => {
  const inputs: [string, Uint8Array][] = [
    ["random", randomBytes(20000, 7)],
    ["zeros", new Uint8Array(30000)],
    ["text", textBytes(25000, 3)],
    ["firmware-like", firmwareLikeImage(40000, 11)],
  ];
  const strategies: [string, number][] = [
    ["default", zc.Z_DEFAULT_STRATEGY], ["fixed", zc.Z_FIXED], ["huffman-only", zc.Z_HUFFMAN_ONLY],
    ["rle", zc.Z_RLE], ["filtered", zc.Z_FILTERED],
  ];

  it("decodes every level 0/1/6/9 x window 9..15 x strategy byte-exactly (one stream; ring of the window and of 2^15)", () => {
    let cases = 0;
    for (const [label, data] of inputs) {
      for (const level of [0, 1, 6, 9]) {
        for (let wb = 9; wb <= 15; wb++) {
          for (const [sname, strategy] of strategies) {
            if (sname !== "default" && wb !== 9 && wb !== 12 && wb !== 15) continue;
            const stream = deflate(data, { level, windowBits: wb, strategy });
            for (const maxW of [wb, 15]) {
              const r = decodeChunks([stream], compressed(data.length, wb), maxW);
              const where = `${label} level ${level} w ${wb} ${sname} ring ${maxW}`;
              expect(name(r.reason), where).toBe("OK");
              expect(same(r.output, data), where).toBe(true);
              cases++;
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(300);
  });

  it("decodes chunked streams: each chunk on its own, outputs concatenated, zero padding accepted", () => {
    const img = firmwareLikeImage(70000, 5);
    for (const [piece, wb, pad] of [[4096, 12, 0], [1000, 9, 7], [16384, 15, 3], [777, 10, 1]]) {
      const chunks = deflateChunks(img, piece, { level: 9, windowBits: wb }, pad);
      const r = decodeChunks(chunks, compressed(img.length, wb), 15);
      expect(name(r.reason)).toBe("OK");
      expect(same(r.output, img)).toBe(true);
    }
  });

  it("long codes (past the first-level tables): memLevel 1 and Z_HUFFMAN_ONLY over skewed bytes", () => {
    const skew = new Uint8Array(60000);
    const r = rng(9);
    for (let i = 0; i < skew.length; i++) { const x = r() % 1000; skew[i] = x < 500 ? 0 : x < 700 ? 1 : r() & 255; }
    for (const o of [{ level: 9, windowBits: 15, memLevel: 1 }, { level: 9, windowBits: 15, strategy: zc.Z_HUFFMAN_ONLY }]) {
      const out = inflateOne(deflate(skew, o));
      expect(name(out.reason)).toBe("OK");
      expect(same(out.output, skew)).toBe(true);
    }
  });
});

describe("payload decoder: invalid deflate is BAD_PAYLOAD", () => {
  const good = deflate(textBytes(3000, 1), { level: 6, windowBits: 12 });

  it("every truncation of a stream", () => {
    for (let n = 0; n < good.length; n++) expect(name(inflateOne(good.subarray(0, n)).reason), "length " + n).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(good).reason)).toBe("OK");
  });

  it("bit flips: never throws; OK only with zlib's own output, BAD_PAYLOAD whenever zlib rejects", () => {
    const r = rng(77);
    const streams = [good, deflate(firmwareLikeImage(5000, 2), { level: 9, windowBits: 15, strategy: zc.Z_FIXED }),
      deflate(randomBytes(600, 3), { level: 0, windowBits: 9 })];
    let bad = 0;
    let ok = 0;
    for (let t = 0; t < 1500; t++) {
      const s = new Uint8Array(streams[t % streams.length]);
      const flips = 1 + (r() % 3);
      for (let f = 0; f < flips; f++) s[r() % s.length] ^= 1 << (r() % 8);
      let zlibOut: Buffer | null = null;
      try { zlibOut = inflateRawSync(s); } catch { zlibOut = null; }
      const mine = inflateOne(s);
      expect(["OK", "BAD_PAYLOAD"]).toContain(name(mine.reason));
      if (zlibOut === null) expect(name(mine.reason)).toBe("BAD_PAYLOAD");
      if (mine.reason === Reason.OK) {
        expect(zlibOut).not.toBeNull();
        expect(same(mine.output, zlibOut!)).toBe(true);
        ok++;
      } else bad++;
    }
    expect(bad).toBeGreaterThan(100);
    expect(ok).toBeGreaterThan(10);
  });

  it("stored blocks: LEN/NLEN mismatch, LEN past the chunk; a valid one decodes", () => {
    expect(inflateOne(new Uint8Array([1, 3, 0, 0xfc, 0xff, 97, 98, 99])).output).toEqual(new Uint8Array([97, 98, 99]));
    expect(name(inflateOne(new Uint8Array([1, 3, 0, 0xfd, 0xff, 97, 98, 99])).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(new Uint8Array([1, 4, 0, 0xfb, 0xff, 97, 98, 99])).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(new Uint8Array([1, 3, 0])).reason)).toBe("BAD_PAYLOAD");
  });

  it("reserved block type 3, empty chunk, no final block", () => {
    expect(name(inflateOne(new Uint8Array([7, 0, 0])).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(new Uint8Array(0)).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(new Uint8Array([0, 0, 0, 0xff, 0xff])).reason)).toBe("BAD_PAYLOAD"); // one empty non-final stored block
  });

  it("fixed blocks: distance beyond the bytes decoded, beyond 2^w; length symbols 286/287; distance symbols 30/31", () => {
    const block = (f: (w: BitWriter) => void) => { const w = new BitWriter().bits(1, 1).bits(1, 2); f(w); fixedLit(w, 256); return w.done(); };
    const aaaa = block((w) => { fixedLit(w, 97); fixedLit(w, 257); w.code(0, 5); });
    expect(Buffer.from(inflateOne(aaaa).output).toString()).toBe("aaaa");
    expect(name(inflateOne(block((w) => { fixedLit(w, 97); fixedLit(w, 257); w.code(1, 5); })).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(block((w) => { fixedLit(w, 286); })).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(block((w) => { fixedLit(w, 287); })).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(block((w) => { fixedLit(w, 97); fixedLit(w, 257); w.code(30, 5); })).reason)).toBe("BAD_PAYLOAD");
    expect(name(inflateOne(block((w) => { fixedLit(w, 97); fixedLit(w, 257); w.code(31, 5); })).reason)).toBe("BAD_PAYLOAD");
    // 600 literals then a copy from distance 513 (dist symbol 18, 8 extra bits = 0): fine at w 10, too far at w 9.
    const far = block((w) => { for (let i = 0; i < 600; i++) fixedLit(w, i & 127); fixedLit(w, 257); w.code(18, 5).bits(0, 8); });
    expect(name(inflateOne(far, 10).reason)).toBe("OK");
    expect(name(inflateOne(far, 9).reason)).toBe("BAD_PAYLOAD");
  });

  it("a distance into the previous chunk (zlib given that chunk as dictionary) is BAD_PAYLOAD; 2^w holds on real streams", () => {
    const a = textBytes(4000, 21);
    const c1 = deflate(a, { level: 9, windowBits: 15 });
    const c2 = deflate(a, { level: 9, windowBits: 15, dictionary: a }); // every match reaches back into the dictionary
    expect(name(decodeChunks([c1, c1], compressed(8000, 15), 15).reason)).toBe("OK");
    const r = decodeChunks([c1, c2], compressed(8000, 15), 15);
    expect(name(r.reason)).toBe("BAD_PAYLOAD");
    expect(r.failedAt).toBe(1);
    const rep = randomBytes(4096, 4);
    const twice = new Uint8Array(8192); twice.set(rep); twice.set(rep, 4096);
    const s = deflate(twice, { level: 9, windowBits: 13 });
    expect(name(inflateOne(s, 13).reason)).toBe("OK");
    expect(name(inflateOne(s, 12, 15).reason)).toBe("OK"); // distance 4096 = 2^12
    expect(name(inflateOne(s, 11, 15).reason)).toBe("BAD_PAYLOAD");
  });

  it("padding: zero bytes accepted, any non-zero padding byte rejected; spare bits of the last byte are not checked", () => {
    for (let i = 0; i < 4; i++) {
      const p = new Uint8Array(good.length + 4); p.set(good);
      expect(name(inflateOne(p).reason)).toBe("OK");
      p[good.length + i] = 1 << i;
      expect(name(inflateOne(p).reason)).toBe("BAD_PAYLOAD");
    }
    // fixed block "a" + EOB = 3 + 8 + 7 bits: the last byte has 6 spare bits.
    const w = new BitWriter().bits(1, 1).bits(1, 2); fixedLit(w, 97); fixedLit(w, 256);
    const s = w.done(); s[s.length - 1] |= 0xc0;
    expect(Buffer.from(inflateOne(s).output).toString()).toBe("a");
  });

  it("dynamic headers: code sets over-subscribed or incomplete, missing end-of-block, bad repeats, too many codes", () => {
    const litLens = (pairs: [number, number][], n = 257) => { const l = new Array(n).fill(0); for (const [s, v] of pairs) l[s] = v; return l; };
    // The header alone, through the inflater's header reader: 0 accepted, -1 rejected.
    const header = (lit: number[], dist: number[], clen?: number[], seq?: number[][]) => {
      const w = new BitWriter();
      dynamicHeader(w, 1, lit, dist, clen, seq);
      const d = w.done();
      const inf = new Inflater(15);
      inf.begin(d, 0, d.length);
      inf.bits(3); // the block header
      return inf.readDynamicHeader();
    };
    const run = (f: (w: BitWriter) => void) => { const w = new BitWriter(); f(w); return inflateOne(w.done()); };
    const dist2 = [1, 1];
    const aEob = litLens([[97, 1], [256, 1]]);
    expect(header(aEob, dist2)).toBe(0);
    expect(Buffer.from(run((w) => { dynamicHeader(w, 1, aEob, dist2); w.code(0, 1).code(0, 1).code(1, 1); }).output).toString()).toBe("aa");
    expect(header(litLens([[97, 1], [98, 1], [256, 1]]), dist2)).toBe(-1); // over-subscribed
    expect(header(litLens([[97, 2], [256, 2]]), dist2)).toBe(-1); // incomplete
    expect(header(litLens([[97, 2], [98, 2], [99, 2], [256, 2]]), dist2)).toBe(0); // its complete twin
    expect(header(litLens([[97, 1], [98, 1]]), dist2)).toBe(-1); // no end-of-block
    expect(header(aEob, [1, 1, 1])).toBe(-1); // distance code over-subscribed
    expect(header(aEob, [2, 2, 2])).toBe(-1); // distance code incomplete
    expect(header(aEob, [2, 2, 2, 2])).toBe(0);
    // A single one-bit code is allowed; its unused half decodes to nothing.
    expect(header(litLens([[256, 1]]), [1])).toBe(0);
    expect(name(run((w) => { dynamicHeader(w, 1, litLens([[256, 1]]), [1]); w.code(0, 1); }).reason)).toBe("OK");
    expect(name(run((w) => { dynamicHeader(w, 1, litLens([[256, 1]]), [1]); w.code(1, 1).code(0, 1); }).reason)).toBe("BAD_PAYLOAD");
    // An empty distance code: literals only are fine, a length symbol is not (257 = '0', 'a' = '10', EOB = '11').
    const noDist = litLens([[97, 2], [256, 2], [257, 1]]);
    expect(name(run((w) => { dynamicHeader(w, 1, noDist, [0]); w.code(2, 2).code(3, 2); }).reason)).toBe("OK");
    expect(name(run((w) => { dynamicHeader(w, 1, noDist, [0]); w.code(2, 2).code(0, 1).code(0, 15).code(3, 2); }).reason)).toBe("BAD_PAYLOAD");
    // Code-length code over-subscribed / incomplete.
    expect(header(aEob, dist2, new Array(19).fill(0).map((_, s) => (s < 17 ? 4 : 0)))).toBe(-1);
    expect(header(aEob, dist2, new Array(19).fill(0).map((_, s) => (s < 15 ? 4 : 0)))).toBe(-1);
    // Run-length codes: a valid header built with them, then repeat 16 first, repeats past the count.
    const rle = [[18, 7, 86], [1, 0, 0], [18, 7, 127], [18, 7, 9], [1, 0, 0], [1, 0, 0], [1, 0, 0]];
    expect(header(litLens([]), dist2, CL_RLE, rle)).toBe(0);
    expect(Buffer.from(run((w) => { dynamicHeader(w, 1, litLens([]), dist2, CL_RLE, rle); w.code(0, 1).code(1, 1); }).output).toString()).toBe("a");
    expect(header(litLens([]), dist2, CL_RLE, [[16, 2, 0], ...rle])).toBe(-1);
    expect(header(litLens([]), dist2, CL_RLE, [[18, 7, 127], [18, 7, 127], [18, 7, 127]])).toBe(-1);
    expect(header(litLens([]), dist2, CL_RLE, [[1, 0, 0], [16, 2, 0], ...rle])).toBe(-1); // 4 more lengths than declared
    // HLIT 287 / HDIST 31 are too many codes; 286 / 30 are not.
    expect(header(litLens([[97, 1], [256, 1]], 287), dist2)).toBe(-1);
    expect(header(litLens([[97, 1], [256, 1]], 286), dist2)).toBe(0);
    expect(header(aEob, new Array(31).fill(0).map((_, i) => (i < 2 ? 1 : 0)))).toBe(-1);
    expect(header(aEob, new Array(30).fill(0).map((_, i) => (i < 2 ? 1 : 0)))).toBe(0);
  });
});

describe("payload decoder: start, finish, memory", () => {
  it("start: window above the decoder's maximum is TOO_LARGE; parameters the manifest check rejects are BAD_STATE", () => {
    const d = new PayloadDecoder(12);
    expect(name(d.start(compressed(100, 13)))).toBe("TOO_LARGE");
    expect(name(d.chunk(new Uint8Array([3, 0]), 0, 2, new CollectSink()))).toBe("BAD_STATE");
    expect(name(d.start(compressed(100, 12)))).toBe("OK");
    expect(name(d.start(compressed(100, 8)))).toBe("BAD_STATE");
    expect(name(d.start({ encoding: 1, codec: 0, windowBits: 0, imageSize: 1, precursorSize: 0 }))).toBe("BAD_STATE");
    expect(name(d.start({ encoding: 2, codec: 1, windowBits: 12, imageSize: 1, precursorSize: 0 }))).toBe("BAD_STATE");
    expect(name(d.start({ encoding: 3, codec: 2, windowBits: 12, imageSize: 1, precursorSize: 0 }))).toBe("BAD_STATE");
    expect(name(d.start(delta(10, 10)))).toBe("OK");
    expect(name(new PayloadDecoder(15).start(compressed(100, 15)))).toBe("OK");
  });

  it("compressed: output beyond image-size is RESULT_MISMATCH, short output at finish too; errors are sticky", () => {
    const img = textBytes(5000, 8);
    const chunks = deflateChunks(img, 1000, { level: 9, windowBits: 10 });
    expect(name(decodeChunks(chunks, compressed(4999, 10), 10).reason)).toBe("RESULT_MISMATCH");
    const short = decodeChunks(chunks, compressed(5001, 10), 10);
    expect(name(short.reason)).toBe("RESULT_MISMATCH");
    expect(short.failedAt).toBe(chunks.length);
    const d = new PayloadDecoder(10);
    d.start(compressed(5000, 10));
    const sink = new CollectSink();
    expect(name(d.chunk(new Uint8Array([7]), 0, 1, sink))).toBe("BAD_PAYLOAD");
    expect(name(d.chunk(chunks[0], 0, chunks[0].length, sink))).toBe("BAD_PAYLOAD");
    expect(name(d.finish())).toBe("BAD_PAYLOAD");
  });

  it("allocates exactly 2^maxWindowBits + 1,760 bytes of typed arrays per decoder (+196 shared constant bytes)", () => {
    expect(INFLATE_TABLE_BYTES + PATCH_BUFFER_LEN).toBe(1760);
    expect(INFLATE_CONST_BYTES).toBe(196);
    expect(PAYLOAD_DECODER_FIXED_BYTES).toBe(1956);
    expect(DECODER_STATE_LEN).toBe(4 + PATCH_STATE_LEN);
    const typedBytes = (root: object): number => {
      const seen = new Set<object>();
      let total = 0;
      const walk = (v: unknown) => {
        if (v === null || typeof v !== "object" || seen.has(v)) return;
        seen.add(v);
        if (ArrayBuffer.isView(v)) { total += v.byteLength; return; }
        for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k]);
      };
      walk(root);
      return total;
    };
    for (let w = 9; w <= 15; w++) {
      const d = new PayloadDecoder(w);
      expect(typedBytes(d)).toBe((1 << w) + 1760);
      expect(payloadDecoderBytes(w)).toBe((1 << w) + 1956);
      // Decoding allocates nothing the decoder keeps.
      const img = firmwareLikeImage(9000, w);
      const chunks = deflateChunks(img, 3000, { level: 9, windowBits: w });
      d.start(compressed(img.length, w));
      const sink = new CollectSink();
      for (const c of chunks) expect(d.chunk(c, 0, c.length, sink)).toBe(Reason.OK);
      expect(d.finish()).toBe(Reason.OK);
      expect(typedBytes(d)).toBe((1 << w) + 1760);
    }
  });
});

describe("payload decoder: delta patches", () => {
  const old = firmwareLikeImage(5000, 31);
  const rec = (diff: number[] | Uint8Array, literal: number[] | Uint8Array, seek: number, copy = 0): PatchRecord =>
    ({ copy, diff: new Uint8Array(diff), literal: new Uint8Array(literal), seek });
  const runPatch = (patch: Uint8Array, imageSize: number, sizes: number[] = [patch.length || 1], precursor = old) =>
    decodeChunks(cut(patch, sizes), delta(imageSize, precursor.length), 15, precursor);

  it("add, insert, seek (forward, backward, past either end between add ranges) match the reference applier", () => {
    const recs = [
      rec([0, 0, 0, 1], [9, 9], 100), // old[0..4) + diff, then 2 literals, pos 4 -> 104
      rec([5, 5], [], -50), // old[104..106) + 5, pos 106 -> 56
      rec([], [1, 2, 3], -1000), // literals only; pos 56 -> -944 (outside old, no add here)
      rec([], [], 1944), // pos -> 1000
      rec(new Uint8Array(300).fill(255), [7], 4000 - 1300), // old[1000..1300) - 1; pos -> 4000
      rec(new Uint8Array(1000), [], 0), // old[4000..5000): ends exactly at the precursor's end
    ];
    const patch = encodePatch(recs);
    const want = applyPatchReference(old, patch, 1312);
    expect(want).toBeInstanceOf(Uint8Array);
    const w = want as Uint8Array;
    expect(w.length).toBe(1312);
    expect(w[0]).toBe(old[0]);
    expect(w[3]).toBe((old[3] + 1) & 255);
    expect(w[6]).toBe((old[104] + 5) & 255);
    const r = runPatch(patch, 1312);
    expect(name(r.reason)).toBe("OK");
    expect(same(r.output, w)).toBe(true);
  });

  it("varints split at every byte position across chunks, and one byte per chunk", () => {
    // pos: add 0..200, seek to -69800, seek to 50, copy 50..350, add 350..450, seek to 2^31 - 1,
    // seek by -2^31 to -1, seek to 1000, copy 1000..4000, add 4000..4001
    const recs = [rec(new Uint8Array(200), randomBytes(130, 1), -70000), rec([], [], 69850),
      rec([0, 3, ...new Uint8Array(98)], [], 2 ** 31 - 1 - 450, 300), rec([], [4], -(2 ** 31)), rec([], [], 1001),
      rec([1], [], 0, 3000)];
    const patch = encodePatch(recs);
    const want = applyPatchReference(old, patch, 200 + 130 + 300 + 100 + 1 + 3000 + 1) as Uint8Array;
    expect(want).toBeInstanceOf(Uint8Array);
    for (let i = 1; i < patch.length; i++) {
      const r = decodeChunks([patch.subarray(0, i), patch.subarray(i)], delta(want.length, old.length), 9, old);
      expect(name(r.reason), "split at " + i).toBe("OK");
      expect(same(r.output, want)).toBe(true);
    }
    const ones = runPatch(patch, want.length, [1]);
    expect(name(ones.reason)).toBe("OK");
    expect(same(ones.output, want)).toBe(true);
  });

  it("add range outside the precursor is BAD_PAYLOAD when the header completes (before any diff byte)", () => {
    const cases: PatchRecord[][] = [
      [rec([], [], -1), rec([0], [], 0)], // pos -1
      [rec([], [], 4999), rec([0, 0], [], 0)], // 4999 + 2 > 5000
      [rec(new Uint8Array(5001), [], 0)],
    ];
    for (const recs of cases) {
      const patch = encodePatch(recs);
      expect(applyPatchReference(old, patch, 10000)).toBe("BAD_PAYLOAD");
      // Cut right after the header of the bad record: the verdict comes with that chunk.
      const r = runPatch(patch, 10000, [patch.length - recs[recs.length - 1].diff.length, 100000]);
      expect(name(r.reason)).toBe("BAD_PAYLOAD");
      expect(r.failedAt).toBe(0);
      expect(r.output.length).toBe(0);
    }
    // add-len 0 at a position outside the precursor reads nothing: fine.
    expect(name(runPatch(encodePatch([rec([], [], -5), rec([], [1], 0)]), 1).reason)).toBe("OK");
  });

  it("output beyond image-size is RESULT_MISMATCH; fewer bytes at finish also", () => {
    const patch = encodePatch([rec(new Uint8Array(10), [1, 2, 3], 0)]);
    expect(name(runPatch(patch, 12).reason)).toBe("RESULT_MISMATCH");
    expect(name(runPatch(patch, 9).reason)).toBe("RESULT_MISMATCH");
    expect(name(runPatch(patch, 13).reason)).toBe("OK");
    const r = runPatch(patch, 14);
    expect(name(r.reason)).toBe("RESULT_MISMATCH");
    expect(r.failedAt).toBe(1);
  });

  it("a partial record at finish is BAD_PAYLOAD: inside a varint, the header, the diff or the literal bytes", () => {
    const first = rec([1, 2], [3, 4], 300);
    const boundary = encodePatch([first]).length;
    const patch = encodePatch([first, rec(new Uint8Array(3), [5], 0)]);
    expect(name(runPatch(patch, 8).reason)).toBe("OK");
    for (let n = 1; n < patch.length; n++) {
      if (n === boundary) continue;
      const r = runPatch(patch.subarray(0, n), 8);
      expect(name(r.reason), "cut at " + n).toBe("BAD_PAYLOAD");
      expect(r.failedAt).toBe(1);
    }
    expect(name(runPatch(patch.subarray(0, boundary), 4).reason)).toBe("OK");
    expect(name(runPatch(new Uint8Array([0x80]), 0).reason)).toBe("BAD_PAYLOAD"); // varint continues past the end
    // With copies (a 2-byte copy-len): a cut anywhere in a header is BAD_PAYLOAD, whatever the copy output.
    const copies = encodePatch([rec([], [], 0, 300), rec([1], [2], 0, 150)]);
    const copyBoundary = encodePatch([rec([], [], 0, 300)]).length;
    expect(name(runPatch(copies, 452).reason)).toBe("OK");
    for (let n = 1; n < copies.length; n++) {
      if (n === copyBoundary) continue;
      expect(name(runPatch(copies.subarray(0, n), 452).reason), "cut at " + n).toBe("BAD_PAYLOAD");
    }
  });

  it("varints: 6 bytes or a value >= 2^32 is BAD_PAYLOAD; 2^32 - 1 in 5 bytes is a value", () => {
    const six = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0]);
    expect(name(runPatch(six, 0).reason)).toBe("BAD_PAYLOAD");
    const big = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x10, 0, 0]); // 2^32
    expect(name(runPatch(big, 0).reason)).toBe("BAD_PAYLOAD");
    expect(applyPatchReference(old, big, 0)).toBe("BAD_PAYLOAD");
    const max = new Uint8Array([0, 0, ...uvarint(2 ** 32 - 1), 0, 1, 2, 3]); // insert-len 2^32-1: beyond any image
    expect(uvarint(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(name(runPatch(max, 2).reason)).toBe("RESULT_MISMATCH");
    expect(svarint(-(2 ** 31))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    // Non-minimal encodings are values too: copy-len 0 and add-len 0 as 0x80 0x00, copy-len 5 as 0x85 0x80 0x00.
    expect(name(runPatch(new Uint8Array([0x80, 0x00, 0x80, 0x00, 0x01, 0x00, 7]), 1).reason)).toBe("OK");
    const five = runPatch(new Uint8Array([0x85, 0x80, 0x00, 0, 0, 0]), 5);
    expect(name(five.reason)).toBe("OK");
    expect(same(five.output, old.subarray(0, 5))).toBe(true);
    // The same limits hold in the copy-len field: 6 bytes, 2^32, and 2^32 - 1 (a range past any precursor).
    expect(name(runPatch(new Uint8Array([0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0]), 0).reason)).toBe("BAD_PAYLOAD");
    expect(name(runPatch(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0]), 0).reason)).toBe("BAD_PAYLOAD");
    expect(name(runPatch(new Uint8Array([...uvarint(2 ** 32 - 1), 0, 0, 0]), 0).reason)).toBe("BAD_PAYLOAD");
  });

  it("copy records: copy alone, copy then add, copy to the precursor's end; every cut gives the reference image", () => {
    const recs = [
      rec([], [], 0, 700), // old[0..700)
      rec([9, 0, 1], [5, 6], 1000, 40), // old[700..740), old[740..743) + diff, 2 literals; pos 743 -> 1743
      rec([], [7], -1743, 0), // a literal only; pos -> 0
      rec([], [], 4000, 1), // old[0]; pos 1 -> 4001
      rec(new Uint8Array(9).fill(1), [], 0, 990), // old[4001..4991), old[4991..5000) + 1: ends at the precursor's end
    ];
    const patch = encodePatch(recs);
    const size = 700 + 40 + 3 + 2 + 1 + 1 + 990 + 9;
    const want = applyPatchReference(old, patch, size) as Uint8Array;
    expect(want).toBeInstanceOf(Uint8Array);
    expect(same(want.subarray(0, 740), old.subarray(0, 740))).toBe(true);
    expect(want[740]).toBe((old[740] + 9) & 255);
    expect(same(want.subarray(743, 747), new Uint8Array([5, 6, 7, old[0]]))).toBe(true);
    expect(same(want.subarray(747, 1737), old.subarray(4001, 4991))).toBe(true);
    expect(want[size - 1]).toBe((old[4999] + 1) & 255);
    for (let i = 1; i < patch.length; i++) {
      const r = decodeChunks([patch.subarray(0, i), patch.subarray(i)], delta(size, old.length), 9, old);
      expect(name(r.reason), "split at " + i).toBe("OK");
      expect(same(r.output, want)).toBe(true);
    }
    for (const sizes of [[1], [2, 1, 5], [patch.length]]) {
      const r = runPatch(patch, size, sizes);
      expect(name(r.reason)).toBe("OK");
      expect(same(r.output, want)).toBe(true);
    }
    // A whole image copied by one record of 6 bytes.
    const whole = runPatch(encodePatch([rec([], [], 0, old.length)]), old.length);
    expect(name(whole.reason)).toBe("OK");
    expect(same(whole.output, old)).toBe(true);
  });

  it("copy or copy-and-add range outside the precursor is BAD_PAYLOAD when the header completes, before any output", () => {
    const cases: PatchRecord[][] = [
      [rec([], [], 0, 5001)], // copy past the end
      [rec([], [], -1), rec([], [], 0, 1)], // copy from pos -1
      [rec([], [], 4990), rec(new Uint8Array(6), [], 0, 5)], // 4990 + 5 + 6 > 5000
      [rec([], [1, 2], 0, 10), rec(new Uint8Array(2), [], 0, 4989)], // 10 + 4989 + 2 > 5000, after some output
    ];
    for (const recs of cases) {
      const patch = encodePatch(recs);
      expect(applyPatchReference(old, patch, 10000)).toBe("BAD_PAYLOAD");
      const last = recs[recs.length - 1];
      const before = encodePatch(recs.slice(0, -1)).length;
      const outBefore = recs.slice(0, -1).reduce((n, r) => n + (r.copy ?? 0) + r.diff.length + r.literal.length, 0);
      // Cut right after the header of the bad record: the verdict comes with that chunk.
      const r = runPatch(patch, 10000, [patch.length - last.diff.length, 100000]);
      expect(name(r.reason)).toBe("BAD_PAYLOAD");
      expect(r.failedAt).toBe(0);
      expect(r.output.length).toBe(outBefore);
      // Cut inside the bad record's copy-len field: still nothing of it is output.
      if (patch.length - last.diff.length - before > 4) {
        const mid = runPatch(patch, 10000, [before + 1, 100000]);
        expect(name(mid.reason)).toBe("BAD_PAYLOAD");
        expect(mid.failedAt).toBe(1);
        expect(mid.output.length).toBe(outBefore);
      }
    }
    // Empty copy and add ranges outside the precursor read nothing: fine.
    expect(name(runPatch(encodePatch([rec([], [], -5), rec([], [1], 0, 0)]), 1).reason)).toBe("OK");
  });

  it("a seek that takes pos outside -2^31 .. 2^31 - 1 is BAD_PAYLOAD when the header completes (its literals unused)", () => {
    const up = encodePatch([rec([], [], 0, 10), rec([], [1, 2], 2 ** 31 - 1 - 10)]); // pos 2^31 - 1: a value
    expect(name(runPatch(up, 12).reason)).toBe("OK");
    const over = encodePatch([rec([], [], 0, 10), rec([], [1, 2], 2 ** 31 - 1 - 10), rec([], [3], 1)]);
    expect(applyPatchReference(old, over, 13)).toBe("BAD_PAYLOAD");
    const r = runPatch(over, 13);
    expect(name(r.reason)).toBe("BAD_PAYLOAD");
    expect(r.output.length).toBe(12);
    const down = encodePatch([rec([], [], -(2 ** 31)), rec([], [5], 0)]); // pos -2^31: a value
    expect(name(runPatch(down, 1).reason)).toBe("OK");
    const under = encodePatch([rec([], [], -(2 ** 31)), rec([], [5], -1)]);
    expect(applyPatchReference(old, under, 1)).toBe("BAD_PAYLOAD");
    const u = runPatch(under, 1);
    expect(name(u.reason)).toBe("BAD_PAYLOAD");
    expect(u.output.length).toBe(0);
    // From a copy and an add range: the pos after them counts.
    const after = encodePatch([rec([1], [], 2 ** 31 - 4999, 4998)]);
    expect(name(runPatch(encodePatch([rec([1], [], 2 ** 31 - 1 - 4999, 4998)]), 4999).reason)).toBe("OK");
    expect(applyPatchReference(old, after, 4999)).toBe("BAD_PAYLOAD");
    expect(name(runPatch(after, 4999).reason)).toBe("BAD_PAYLOAD");
  });

  it("a copy past image-size is RESULT_MISMATCH; one ending exactly at image-size is not", () => {
    const patch = encodePatch([rec([], [1], 0, 200)]);
    expect(name(runPatch(patch, 201).reason)).toBe("OK");
    const r = runPatch(patch, 199);
    expect(name(r.reason)).toBe("RESULT_MISMATCH");
    expect(r.output.length).toBeLessThanOrEqual(199);
    expect(same(r.output, old.subarray(0, r.output.length))).toBe(true);
    expect(name(runPatch(patch, 200).reason)).toBe("RESULT_MISMATCH");
  });

  it("random patches, codec 0 and deflate, random chunk cuts: same image as the reference applier", () => {
    const r = rng(123);
    for (let t = 0; t < 30; t++) {
      const base = t % 2 === 0 ? firmwareLikeImage(3000 + (r() % 9000), t) : randomBytes(500 + (r() % 4000), t);
      const patch = encodePatch(randomRecords(base, 1 + (r() % 40), t + 1000));
      const size = countOutput(base, patch);
      const exact = applyPatchReference(base, patch, size) as Uint8Array;
      expect(exact).toBeInstanceOf(Uint8Array);
      const sizes = [1 + (r() % 50), 1 + (r() % 700), 1 + (r() % 3)];
      const plain = decodeChunks(cut(patch, sizes), delta(size, base.length), 9, base);
      expect(name(plain.reason)).toBe("OK");
      expect(same(plain.output, exact)).toBe(true);
      const wb = 9 + (t % 7);
      const packed = deflateChunks(patch, 200 + (r() % 2000), { level: t % 10, windowBits: wb });
      const viaDeflate = decodeChunks(packed, delta(size, base.length, 1, wb), 15, base);
      expect(name(viaDeflate.reason)).toBe("OK");
      expect(same(viaDeflate.output, exact)).toBe(true);
    }
  });

  it("garbage and mutated patches: the same verdict and output as the reference applier, precursor reads always in range", () => {
    const r = rng(4242);
    const base = firmwareLikeImage(3000, 8);
    const valid = encodePatch(randomRecords(base, 12, 5));
    const validSize = countOutput(base, valid);
    const seen = new Set<string>();
    for (let t = 0; t < 600; t++) {
      let patch: Uint8Array;
      if (t % 3 === 0) patch = randomBytes(1 + (r() % 40), r());
      else {
        patch = new Uint8Array(valid);
        for (let f = 0; f < 1 + (r() % 3); f++) patch[r() % patch.length] = r() & 255;
        if (t % 3 === 2) patch = patch.subarray(0, r() % patch.length);
      }
      const imageSize = t % 3 === 0 ? r() % 400 : validSize;
      const want = applyPatchReference(base, patch, imageSize);
      // CollectSink throws on a precursor read outside [0, size): the decoder must never make one.
      const got = decodeChunks(cut(patch, [1 + (r() % 9), 1 + (r() % 200)]), delta(imageSize, base.length), 9, base);
      const verdict = typeof want === "string" ? want : "OK";
      expect(name(got.reason), "case " + t).toBe(verdict);
      if (want instanceof Uint8Array) expect(same(got.output, want)).toBe(true);
      seen.add(verdict);
    }
    expect([...seen].sort()).toEqual(["BAD_PAYLOAD", "OK", "RESULT_MISMATCH"]);
  });

  it("saveState/loadState at every chunk boundary resumes to the same output", () => {
    const base = firmwareLikeImage(8000, 3);
    const patch = encodePatch(randomRecords(base, 25, 99));
    const size = countOutput(base, patch);
    for (const [codec, chunks] of [[0, cut(patch, [1, 7, 130, 2, 61])], [1, deflateChunks(patch, 300, { level: 9, windowBits: 11 })]] as [number, Uint8Array[]][]) {
      resumeAtEveryBoundary(chunks, delta(size, base.length, codec, codec ? 11 : 0), base);
    }
    // Compressed (encoding 1): the state is the image position only.
    const img = textBytes(6000, 4);
    const chunks = deflateChunks(img, 1500, { level: 6, windowBits: 9 });
    const full = decodeChunks(chunks, compressed(img.length, 9), 9);
    const d = new PayloadDecoder(9);
    d.start(compressed(img.length, 9));
    expect(d.loadState(full.states[2], 0)).toBe(Reason.OK);
    const sink = new CollectSink();
    d.chunk(chunks[2], 0, chunks[2].length, sink);
    d.chunk(chunks[3], 0, chunks[3].length, sink);
    expect(d.finish()).toBe(Reason.OK);
    expect(same(sink.bytes(), img.subarray(3000))).toBe(true);
  });

  it("copies: resume at every byte of the patch (one byte per chunk) and at every wire chunk of its deflate", () => {
    const base = firmwareLikeImage(6000, 12);
    const recs = [rec([], [], 0, 1000), rec([3, 0, 0, 7], randomBytes(20, 3), 2000, 200), rec([], [], -3000, 130),
      rec([], [1], 0, 0), rec(new Uint8Array(40).fill(2), [], 0, 4000)];
    const patch = encodePatch(recs);
    const size = countOutput(base, patch);
    const states = resumeAtEveryBoundary(cut(patch, [1]), delta(size, base.length), base);
    // No saved state is inside a copy: once the header is read (phase >= 4) the copy-len field is 0.
    for (const st of states) if (st[4] >= 4) expect(Array.from(st.subarray(12, 16))).toEqual([0, 0, 0, 0]);
    expect(states.some((st) => st[4] === 1 && st[12] !== 0)).toBe(true); // a copy-len read, waiting for add-len
    resumeAtEveryBoundary(deflateChunks(patch, 25, { level: 9, windowBits: 9 }), delta(size, base.length, 1, 9), base);
  });

  it("loadState rejects records saveState cannot have written (BAD_STATE), and before start()", () => {
    const base = old;
    const p = delta(1000, base.length);
    const d = new PayloadDecoder(9);
    const st = new Uint8Array(DECODER_STATE_LEN);
    expect(name(d.loadState(st, 0))).toBe("BAD_STATE");
    d.start(p);
    expect(name(d.loadState(st, 0))).toBe("OK");
    const bad = (f: (s: Uint8Array) => void) => { const s = new Uint8Array(DECODER_STATE_LEN); f(s); return name(d.loadState(s, 0)); };
    expect(bad((s) => { s[0] = 0xe9; s[1] = 0x03; })).toBe("BAD_STATE"); // outPos 1001 > image-size 1000
    expect(bad((s) => { s[0] = 0xe8; s[1] = 0x03; })).toBe("OK");
    // Layout: outPos, phase, varint byte count, 2 zero bytes, varint value, copy-len, add left,
    // insert left, seek, pos (u32/i32 little-endian from bytes 0, 4, 5, 6, 8, 12, 16, 20, 24, 28).
    expect(bad((s) => { s[4] = 6; })).toBe("BAD_STATE"); // phase
    expect(bad((s) => { s[6] = 1; })).toBe("BAD_STATE"); // reserved
    expect(bad((s) => { s[5] = 1; s[9] = 0x01; })).toBe("BAD_STATE"); // 1 varint byte holds < 2^7
    expect(bad((s) => { s[5] = 1; s[8] = 0x7f; })).toBe("OK");
    expect(bad((s) => { s[12] = 1; })).toBe("BAD_STATE"); // copy-len set while reading copy-len
    expect(bad((s) => { s[4] = 1; s[12] = 1; })).toBe("OK"); // copy-len read, reading add-len
    expect(bad((s) => { s[4] = 1; s[16] = 1; })).toBe("BAD_STATE"); // add-len set while reading add-len
    expect(bad((s) => { s[4] = 2; s[20] = 1; })).toBe("BAD_STATE"); // insert-len set while reading it
    expect(bad((s) => { s[4] = 3; s[24] = 1; })).toBe("BAD_STATE"); // seek set while reading it
    expect(bad((s) => { s[4] = 3; s[12] = 0xff; s[13] = 0xff; s[14] = 0xff; s[15] = 0xff; s[28] = 0xff; s[31] = 0x80; })).toBe("OK"); // header read up to the seek: no range yet
    expect(bad((s) => { s[4] = 4; s[16] = 10; s[28] = 0xf6; s[29] = 0x12; })).toBe("OK"); // add 10 from 4854
    expect(bad((s) => { s[4] = 4; s[12] = 1; s[16] = 10; s[28] = 0xf6; s[29] = 0x12; })).toBe("BAD_STATE"); // a copy left after the header
    expect(bad((s) => { s[4] = 4; s[16] = 10; s[28] = 0x80; s[29] = 0x13; })).toBe("BAD_STATE"); // 4992 + 10 > 5000
    expect(bad((s) => { s[4] = 4; s[16] = 10; s[31] = 0xff; })).toBe("BAD_STATE"); // negative pos
    expect(bad((s) => { s[4] = 5; })).toBe("BAD_STATE"); // inserting nothing
    expect(bad((s) => { s[4] = 5; s[20] = 1; s[28] = 0xff; s[29] = 0xff; s[30] = 0xff; s[31] = 0x7f; })).toBe("OK"); // pos 2^31 - 1
    expect(bad((s) => { s[4] = 5; s[20] = 1; s[24] = 1; s[28] = 0xff; s[29] = 0xff; s[30] = 0xff; s[31] = 0x7f; })).toBe("BAD_STATE"); // seek to 2^31
    expect(bad((s) => { s[4] = 4; s[16] = 10; s[24] = 0xff; s[25] = 0xff; s[26] = 0xff; s[27] = 0xff; })).toBe("OK"); // seek -1 after add 0..10
  });
});

/**
 * Decodes the chunks once, then for every chunk boundary k a fresh decoder loads the state saved
 * there, decodes chunks k.. and must give the rest of the same image; a loaded state saves back
 * to the same bytes. Returns the states.
 */
function resumeAtEveryBoundary(chunks: Uint8Array[], p: PayloadParams, base: Uint8Array): Uint8Array[] {
  const full = decodeChunks(chunks, p, 11, base);
  expect(name(full.reason)).toBe("OK");
  expect(full.states.length).toBe(chunks.length);
  for (let k = 0; k < chunks.length; k++) {
    const d = new PayloadDecoder(11);
    expect(d.start(p)).toBe(Reason.OK);
    expect(name(d.loadState(full.states[k], 0))).toBe("OK");
    expect(d.outPos).toBe(full.outPos[k]);
    const sink = new CollectSink(base);
    for (let j = k; j < chunks.length; j++) expect(d.chunk(chunks[j], 0, chunks[j].length, sink)).toBe(Reason.OK);
    expect(d.finish()).toBe(Reason.OK);
    expect(same(sink.bytes(), full.output.subarray(full.outPos[k]))).toBe(true);
    const again = new Uint8Array(DECODER_STATE_LEN);
    const d2 = new PayloadDecoder(11);
    d2.start(p);
    d2.loadState(full.states[k], 0);
    d2.saveState(again, 0);
    expect(again).toEqual(full.states[k]);
  }
  return full.states;
}

/** Bytes a patch outputs, by the reference applier. */
function countOutput(old: Uint8Array, patch: Uint8Array): number {
  const r = applyPatchReference(old, patch, -1);
  expect(r).toBeInstanceOf(Uint8Array);
  return (r as Uint8Array).length;
}
