// PAYLOAD ENCODERS: the host side of compressed and delta payloads (SPEC §15). The chunked
// deflate stream must decode with an independent inflater (node:zlib) one wire chunk at a time;
// the delta patch must rebuild the new image with the reference applier, and stay small when the
// change is small.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { encodeChunkedDeflate, encodeChunkedDeflateDetailed, OPTIMAL_ENCODER } from "../../host/payload/chunked-deflate.js";
import { deflateOptimal, deflateOptimalPrefix } from "../../host/payload/deflate-optimal.js";
import { applyPatch, diffImages } from "../../host/payload/delta.js";
import { PatchWriter, readRecordHeader } from "../../host/payload/patch-format.js";
import { suffixArray } from "../../host/payload/suffix-array.js";
import { sampleImage } from "../helpers/images.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Deterministic PRNG (xorshift32) for the synthetic images. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/**
 * Bytes shaped like a Cortex-M image: runs of 16-bit instructions from a small opcode
 * vocabulary with varying low bits, literal pools of 32-bit flash addresses, string tables and
 * zero padding.
 */
function firmwareLike(size: number, seed = 7): Uint8Array {
  const rnd = prng(seed);
  const opcodes = Array.from({ length: 96 }, () => rnd(0x10000) & 0xff00);
  const words = ["error", "flash", "update", "chunk", "verify", "boot", "slot", "image", "hash", "ok", "\0"];
  const out = new Uint8Array(size);
  let i = 0;
  const put = (b: number): void => {
    if (i < size) out[i++] = b & 0xff;
  };
  while (i < size) {
    const kind = rnd(10);
    if (kind < 6) {
      for (let k = rnd(200); k > 0; k--) {
        const op = opcodes[rnd(opcodes.length)] | rnd(16);
        put(op);
        put(op >> 8);
      }
    } else if (kind < 8) {
      for (let k = rnd(16); k > 0; k--) {
        const addr = 0x08000000 + rnd(0x40000) * 2 + 1;
        put(addr);
        put(addr >> 8);
        put(addr >> 16);
        put(addr >> 24);
      }
    } else if (kind < 9) {
      for (let k = rnd(12); k > 0; k--) for (const c of words[rnd(words.length)]) put(c.charCodeAt(0));
    } else {
      for (let k = rnd(300); k > 0; k--) put(0);
    }
  }
  return out;
}

/** Adds `by` to every aligned 32-bit little-endian flash address (0x08xxxxxx) of img from `from` on. */
function shiftAddresses(img: Uint8Array, from: number, by: number): void {
  for (let i = from; i + 4 <= img.length; i += 4) {
    const v = img[i] | (img[i + 1] << 8) | (img[i + 2] << 16) | (img[i + 3] << 24);
    if (v >>> 24 === 0x08) {
      const moved = (v + by) >>> 0;
      img.set([moved & 0xff, (moved >> 8) & 0xff, (moved >> 16) & 0xff, moved >>> 24], i);
    }
  }
}

/** Text that compresses well: the repository's own sources. */
function compressible(size: number): Uint8Array {
  const text = ["formats/SPEC.md", "README.md", "host/payload/delta.ts"].map((f) => readFileSync(path.join(root, f))).reduce((a, b) => Buffer.concat([a, b]));
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += text.length) out.set(text.subarray(0, Math.min(text.length, size - i)), i);
  return out;
}

/**
 * Decodes a codec 1 wire stream the way a device does, chunk by chunk with no shared history,
 * checking that each chunk is one deflate stream followed by zero padding (the last one exact).
 */
function inflateChunks(wire: Uint8Array, chunkSize: number, windowBits: number): Uint8Array {
  const parts: Buffer[] = [];
  for (let off = 0; off < wire.length; off += chunkSize) {
    const data = wire.subarray(off, Math.min(wire.length, off + chunkSize));
    const last = off + chunkSize >= wire.length;
    const { buffer, engine } = inflateRawSync(data, { windowBits, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    const used = engine.bytesWritten;
    if (last) expect(used, `last chunk at ${off} is exact`).toBe(data.length);
    expect(data.subarray(used).every((b) => b === 0), `padding of the chunk at ${off} is zero`).toBe(true);
    parts.push(buffer);
  }
  return new Uint8Array(Buffer.concat(parts));
}

const kinds: Array<[string, (size: number) => Uint8Array]> = [
  ["random", (size) => sampleImage(size, 5)],
  ["compressible", compressible],
  ["firmware-like", (size) => firmwareLike(size)],
];

describe("chunked deflate (codec 1)", () => {
  const chunkSizes = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
  for (const [kind, make] of kinds) {
    it(`${kind}: every chunk size 256..65536 decodes chunk by chunk (windows 9, 12, 15)`, () => {
      for (const chunkSize of chunkSizes) {
        // Several wire chunks even for compressible input, plus a ragged tail.
        const image = make(Math.min(chunkSize * 6, 100_000) + 123);
        for (const w of [9, 12, 15]) {
          const wire = encodeChunkedDeflate(image, chunkSize, w);
          expect(wire.length).toBeGreaterThan(0);
          expect(Buffer.from(inflateChunks(wire, chunkSize, w)).equals(Buffer.from(image)), `${kind} chunk ${chunkSize} w${w}`).toBe(true);
        }
      }
    });
    it(`${kind}: every window 9..15 at 4096-byte chunks`, () => {
      const image = make(40_000);
      for (let w = 9; w <= 15; w++) {
        const wire = encodeChunkedDeflate(image, 4096, w);
        expect(Buffer.from(inflateChunks(wire, 4096, w)).equals(Buffer.from(image)), `${kind} w${w}`).toBe(true);
      }
    });
  }

  it("zlib runs are the longest that fit: one more input byte no longer fits the chunk", () => {
    const image = firmwareLike(100_000, 3);
    const chunkSize = 2048;
    const { wire, chunks } = encodeChunkedDeflateDetailed(image, chunkSize, 12, { optimal: false });
    let pos = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      expect(c.deflatedLen).toBeLessThanOrEqual(chunkSize);
      if (i < chunks.length - 1) {
        const longer = deflateRawSync(image.subarray(pos, pos + c.inputLen + 1), { level: 9, memLevel: 9, windowBits: 12, strategy: c.strategy });
        expect(longer.length, `chunk ${i}`).toBeGreaterThan(chunkSize);
      }
      pos += c.inputLen;
    }
    expect(pos).toBe(image.length);
    expect(wire.length).toBe((chunks.length - 1) * chunkSize + chunks[chunks.length - 1].deflatedLen);
  });

  it("compresses: firmware-like input close to one whole-image deflate, random input barely grows", () => {
    const fw = firmwareLike(200_000);
    const whole = deflateRawSync(fw, { level: 9 }).length;
    expect(encodeChunkedDeflate(fw, 4096, 12).length).toBeLessThan(whole * 1.3);
    const rnd = sampleImage(100_000, 9);
    // Stored blocks: 5 bytes per chunk of overhead.
    expect(encodeChunkedDeflate(rnd, 4096, 12).length).toBeLessThan(rnd.length * 1.01);
  });

  it("picks per chunk the encoder that consumes the most input; the cost-optimised one wins on code", () => {
    const image = firmwareLike(80_000, 11);
    const both = encodeChunkedDeflateDetailed(image, 1024, 12, { optimal: false });
    const plain = encodeChunkedDeflateDetailed(image, 1024, 12, { optimal: false, strategies: [constants.Z_DEFAULT_STRATEGY] });
    expect(plain.chunks.every((c) => c.strategy === constants.Z_DEFAULT_STRATEGY)).toBe(true);
    expect(both.wire.length).toBeLessThanOrEqual(plain.wire.length);
    expect(Buffer.from(inflateChunks(plain.wire, 1024, 12)).equals(Buffer.from(image))).toBe(true);

    // On text the cost-optimised encoder fits more input into most chunks.
    const text = compressible(40_000);
    const zlibOnly = encodeChunkedDeflateDetailed(text, 1024, 12, { optimal: false });
    const optimal = encodeChunkedDeflateDetailed(text, 1024, 12);
    expect(optimal.chunks.filter((c) => c.strategy === OPTIMAL_ENCODER).length).toBeGreaterThan(optimal.chunks.length / 2);
    expect(optimal.wire.length).toBeLessThan(zlibOnly.wire.length);
    expect(Buffer.from(inflateChunks(optimal.wire, 1024, 12)).equals(Buffer.from(text))).toBe(true);
  });

  it("long zero runs (patches of unchanged regions): a chunk holds about 1000 times its size", () => {
    const image = new Uint8Array(1 << 20);
    image[300_000] = 1;
    image[800_000] = 2;
    const { wire, chunks } = encodeChunkedDeflateDetailed(image, 1024, 9);
    expect(chunks.length).toBeLessThanOrEqual(3);
    expect(Buffer.from(inflateChunks(wire, 1024, 9)).equals(Buffer.from(image))).toBe(true);
  });

  it("tiny and empty images: one exact chunk", () => {
    for (const image of [new Uint8Array(0), new Uint8Array([42]), new Uint8Array(300)]) {
      const wire = encodeChunkedDeflate(image, 256, 9);
      expect(wire.length).toBeLessThanOrEqual(256);
      expect(Buffer.from(inflateChunks(wire, 256, 9)).equals(Buffer.from(image))).toBe(true);
    }
  });

  it("rejects window bits outside 9..15 and chunks too small for one byte", () => {
    const image = sampleImage(1000);
    expect(() => encodeChunkedDeflate(image, 4096, 8)).toThrow(RangeError);
    expect(() => encodeChunkedDeflate(image, 4096, 16)).toThrow(RangeError);
    expect(() => encodeChunkedDeflate(image, 2, 12)).toThrow(/cannot hold/);
  });
});

describe("cost-optimised deflate", () => {
  it("decodes with zlib for every window, on random, repetitive and patch-like data", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1 }), fc.integer({ min: 9, max: 15 }), (size, alphabet, seed, w) => {
        const rnd = prng(seed);
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          // Copies of earlier bytes near and far, runs, fresh bytes.
          const r = rnd(10);
          data[i] = r < 3 && i > 0 ? data[i - 1 - rnd(Math.min(i, 1 << w))] : r < 6 && i > 0 ? data[i - 1] : rnd(alphabet);
        }
        const out = deflateOptimal(data, { windowBits: w });
        expect(Buffer.from(inflateRawSync(out, { windowBits: w })).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 150 }
    );
  });

  it("beats zlib -9 on delta patches and program text", () => {
    // Code inserted and the later addresses shifted: the patch carries the inserted bytes and
    // the scattered address diffs (its unchanged stretches are copies).
    const img = firmwareLike(200_000);
    const grown = new Uint8Array([...img.subarray(0, 80_000), ...firmwareLike(3_000, 99), ...img.subarray(80_000)]);
    shiftAddresses(grown, 83_000, 3_000);
    const patch = diffImages(img, grown);
    for (const data of [patch, compressible(30_000)]) {
      for (const w of [12, 15]) {
        const ours = deflateOptimal(data, { windowBits: w });
        expect(Buffer.from(inflateRawSync(ours, { windowBits: w })).equals(Buffer.from(data))).toBe(true);
        expect(ours.length).toBeLessThan(deflateRawSync(data, { level: 9, memLevel: 9, windowBits: w }).length);
      }
    }
  });

  it("prefix mode: the returned stream fits the cap and decodes to the prefix", () => {
    const data = firmwareLike(50_000, 21);
    for (const cap of [256, 1000, 4096]) {
      const { len, data: out } = deflateOptimalPrefix(data, cap, 100, { windowBits: 12 });
      expect(len).toBeGreaterThan(100);
      expect(out.length).toBeLessThanOrEqual(cap);
      expect(Buffer.from(inflateRawSync(out, { windowBits: 12 })).equals(Buffer.from(data.subarray(0, len)))).toBe(true);
    }
    expect(deflateOptimalPrefix(data, 2, 1, { windowBits: 12 }).len).toBe(0);
  });
});

describe("suffix array (SA-IS)", () => {
  it("equals a naive sort of the suffixes on small strings over small alphabets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 256 }), (raw, k) => {
        const bytes = raw.map((b) => b % k);
        const naive = Array.from(bytes.keys()).sort((a, b) => Buffer.compare(Buffer.from(bytes.subarray(a)), Buffer.from(bytes.subarray(b))));
        expect(Array.from(suffixArray(bytes))).toEqual(naive);
      }),
      { numRuns: 300 }
    );
  });

  it("handles long repeats (all zero, periodic)", () => {
    const zeros = suffixArray(new Uint8Array(10_000));
    expect(zeros[0]).toBe(9_999);
    expect(zeros[9_999]).toBe(0);
    const periodic = new Uint8Array(5_000).map((_, i) => i % 3);
    const sa = suffixArray(periodic);
    for (let i = 1; i < sa.length; i++) expect(Buffer.compare(Buffer.from(periodic.subarray(sa[i - 1])), Buffer.from(periodic.subarray(sa[i])))).toBe(-1);
  });
});

/** Patch records with their header fields and the position each one's copy range starts at. */
function records(patch: Uint8Array): Array<{ copyLen: number; addLen: number; insertLen: number; seek: number; pos: number }> {
  const out = [];
  let off = 0;
  let pos = 0;
  while (off < patch.length) {
    const { header, next } = readRecordHeader(patch, off);
    out.push({ ...header, pos });
    pos += header.copyLen + header.addLen + header.seek;
    off = next + header.addLen + header.insertLen;
  }
  return out;
}

function roundTrip(oldImg: Uint8Array, newImg: Uint8Array): Uint8Array {
  const patch = diffImages(oldImg, newImg);
  expect(Buffer.from(applyPatch(oldImg, patch)).equals(Buffer.from(newImg))).toBe(true);
  for (const r of records(patch)) {
    // Every record starts inside the precursor, even one with an empty add range (so that an
    // applier reading "inside [0, precursor-size)" strictly accepts it too).
    expect(r.pos).toBeGreaterThanOrEqual(0);
    if (oldImg.length > 0) expect(r.pos).toBeLessThan(oldImg.length);
    expect(r.pos + r.copyLen + r.addLen).toBeLessThanOrEqual(oldImg.length);
  }
  return patch;
}

/** The edit kinds of the delta properties, applied to a copy of `img`. */
type Edit = { at: number; kind: "insert" | "delete" | "change" | "move"; len: number; from: number; seed: number };
function applyEdits(img: Uint8Array, edits: Edit[]): Uint8Array {
  let b = Array.from(img);
  for (const e of edits) {
    const at = e.at % (b.length + 1);
    const rnd = prng(e.seed);
    if (e.kind === "insert") b.splice(at, 0, ...Array.from({ length: e.len }, () => rnd(256)));
    else if (e.kind === "delete") b.splice(at, e.len);
    else if (e.kind === "change") for (let i = at; i < Math.min(b.length, at + e.len); i++) b[i] = (b[i] + 1 + rnd(255)) & 0xff;
    else {
      const from = e.from % (b.length + 1);
      const block = b.slice(from, from + e.len * 8);
      b = b.slice(0, from).concat(b.slice(from + block.length));
      b.splice(Math.min(at, b.length), 0, ...block);
    }
  }
  return Uint8Array.from(b);
}

describe("delta patches", () => {
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom("insert" as const, "delete" as const, "change" as const, "move" as const),
    len: fc.integer({ min: 0, max: 64 }),
    from: fc.nat(),
    seed: fc.integer({ min: 1 }),
  });

  it("rebuilds the new image after random insertions, deletions, changes and moved blocks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1 }), fc.array(edit, { maxLength: 8 }), (size, alphabet, seed, edits) => {
        const rnd = prng(seed);
        const oldImg = Uint8Array.from({ length: size }, () => rnd(alphabet));
        roundTrip(oldImg, applyEdits(oldImg, edits));
      }),
      { numRuns: 400 }
    );
  });

  it("rebuilds unrelated images, tiny images and an empty new image", () => {
    roundTrip(sampleImage(5000, 1), sampleImage(7000, 2));
    roundTrip(new Uint8Array([1]), new Uint8Array([2]));
    roundTrip(new Uint8Array([1]), new Uint8Array([1, 1, 1, 1]));
    roundTrip(new Uint8Array(1000), new Uint8Array(1));
    roundTrip(new Uint8Array(0), new Uint8Array([9, 8, 7]));
    expect(roundTrip(sampleImage(100), new Uint8Array(0)).length).toBe(0);
  });

  it("identical images: one record copying the whole image", () => {
    const img = firmwareLike(100_000);
    const patch = roundTrip(img, img);
    expect(records(patch)).toEqual([{ copyLen: img.length, addLen: 0, insertLen: 0, seek: 0, pos: 0 }]);
    expect(patch.length).toBe(6);
  });

  it("a small change makes a small patch; a shifted block costs only its edges", () => {
    const img = firmwareLike(200_000);
    const deflated = (p: Uint8Array): number => encodeChunkedDeflate(p, 4096, 12).length;
    const whole = deflated(img);

    const oneByte = Uint8Array.from(img);
    oneByte[123_456] ^= 0x55;
    expect(deflated(roundTrip(img, oneByte))).toBeLessThan(whole / 50);

    const inserted = applyEdits(img, [{ at: 50_000, kind: "insert", len: 40, from: 0, seed: 3 }]);
    const insertPatch = roundTrip(img, inserted);
    expect(records(insertPatch).reduce((n, r) => n + r.insertLen, 0)).toBeLessThanOrEqual(60);
    expect(deflated(insertPatch)).toBeLessThan(whole / 50);

    // A 30 KB block moved from the end to the front.
    const moved = new Uint8Array([...img.subarray(170_000), ...img.subarray(0, 170_000)]);
    expect(deflated(roundTrip(img, moved))).toBeLessThan(whole / 50);

    // Code inserted and every later "address" shifted: sparse diff bytes, still far smaller
    // than the compressed image.
    const shifted = firmwareLike(200_000);
    const grown = new Uint8Array([...shifted.subarray(0, 80_000), ...firmwareLike(2_000, 99), ...shifted.subarray(80_000)]);
    shiftAddresses(grown, 82_000, 2_000);
    expect(deflated(roundTrip(shifted, grown))).toBeLessThan(whole / 4);
  });
});

describe("delta patches: copies", () => {
  /** The add ranges' diff bytes of each record. */
  const addRanges = (patch: Uint8Array): Uint8Array[] => {
    const out = [];
    for (let off = 0; off < patch.length; ) {
      const { header, next } = readRecordHeader(patch, off);
      out.push(patch.subarray(next, next + header.addLen));
      off = next + header.addLen + header.insertLen;
    }
    return out;
  };
  /** Longest run of zero bytes in b. */
  const longestZeroRun = (b: Uint8Array): number => {
    let best = 0;
    let run = 0;
    for (const x of b) {
      run = x === 0 ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  };

  it("a changed byte: copy up to it, add it, copy the rest (no zero diff bytes carried)", () => {
    const img = firmwareLike(100_000);
    const changed = Uint8Array.from(img);
    changed[40_000] ^= 0x21;
    const patch = roundTrip(img, changed);
    expect(records(patch)).toEqual([
      { copyLen: 40_000, addLen: 1, insertLen: 0, seek: 0, pos: 0 },
      { copyLen: 59_999, addLen: 0, insertLen: 0, seek: 0, pos: 40_001 },
    ]);
    expect(Array.from(addRanges(patch)[0])).toEqual([(changed[40_000] - img[40_000]) & 0xff]);
  });

  it("every add range starts with a non-zero diff byte after a copy and holds no zero run of minCopyRun bytes", () => {
    const img = firmwareLike(60_000, 3);
    const edited = applyEdits(img, [
      { at: 5_000, kind: "change", len: 3, from: 0, seed: 1 },
      { at: 20_000, kind: "insert", len: 30, from: 0, seed: 2 },
      { at: 30_000, kind: "delete", len: 12, from: 0, seed: 3 },
      { at: 45_000, kind: "change", len: 40, from: 0, seed: 4 },
    ]);
    // Sparse changes: a byte every 10 in a 300-byte stretch, then every 40 in the next.
    for (let i = 10_000; i < 10_300; i += 10) edited[i] ^= 1;
    for (let i = 10_300; i < 12_000; i += 40) edited[i] ^= 2;
    for (const minCopyRun of [1, 4, 16, 64, 100_000]) {
      const patch = diffImages(img, edited, minCopyRun);
      expect(Buffer.from(applyPatch(img, patch)).equals(Buffer.from(edited)), "minCopyRun " + minCopyRun).toBe(true);
      const recs = records(patch);
      const adds = addRanges(patch);
      for (let k = 0; k < recs.length; k++) {
        expect(longestZeroRun(adds[k])).toBeLessThan(minCopyRun);
        if (recs[k].copyLen > 0 && adds[k].length > 0) expect(adds[k][0]).not.toBe(0);
      }
      if (minCopyRun === 16) {
        // The every-10 stretch stays one add range, the every-40 one is cut at each change.
        const sparse = recs.filter((r) => r.pos + r.copyLen >= 10_000 && r.pos + r.copyLen < 12_000);
        expect(sparse.length).toBeGreaterThanOrEqual(40);
        expect(sparse.some((r) => r.addLen >= 291)).toBe(true);
      }
    }
    expect(() => diffImages(img, edited, 0)).toThrow(RangeError);
  });
});

describe("patch format and the reference applier", () => {
  it("writes LEB128 lengths and zigzag seeks", () => {
    const w = new PatchWriter();
    w.record(0, new Uint8Array([1, 2]), new Uint8Array([3]), -1);
    w.record(0, new Uint8Array(0), new Uint8Array(0), 0x7fffffff);
    w.record(0, new Uint8Array(0), new Uint8Array(200), -0x80000000);
    w.record(300, new Uint8Array(0), new Uint8Array(0), 0);
    const p = w.finish();
    expect(Array.from(p.subarray(0, 7))).toEqual([0, 2, 1, 1, 1, 2, 3]);
    expect(Array.from(p.subarray(7, 15))).toEqual([0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f]);
    expect(Array.from(p.subarray(15, 24))).toEqual([0, 0, 0xc8, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(Array.from(p.subarray(224))).toEqual([0xac, 0x02, 0, 0, 0]);
    expect(records(p).map((r) => r.seek)).toEqual([-1, 0x7fffffff, -0x80000000, 0]);
    expect(records(p).map((r) => r.copyLen)).toEqual([0, 0, 0, 300]);
    expect(() => w.record(0, new Uint8Array(0), new Uint8Array(0), 0x80000000)).toThrow(RangeError);
    expect(() => w.record(-1, new Uint8Array(0), new Uint8Array(0), 0)).toThrow(RangeError);
    expect(() => w.record(2 ** 32, new Uint8Array(0), new Uint8Array(0), 0)).toThrow(RangeError);
  });

  it("applies copy, add (mod 256), insert and seek", () => {
    const w = new PatchWriter();
    w.record(0, new Uint8Array([1, 255]), new Uint8Array([7, 7]), 3); // old[0..2) + diff, then pos 2 + 3 = 5
    w.record(0, new Uint8Array([0]), new Uint8Array(0), -6); // old[5], then back to 0
    w.record(0, new Uint8Array([0]), new Uint8Array(0), 0);
    expect(Array.from(applyPatch(new Uint8Array([10, 20, 30, 40, 50, 60]), w.finish()))).toEqual([11, 19, 7, 7, 60, 10]);
    const c = new PatchWriter();
    c.record(2, new Uint8Array([1]), new Uint8Array([9]), -1); // old[0..2), old[2] + 1, 9; pos 3 -> 2
    c.record(4, new Uint8Array(0), new Uint8Array(0), -6); // old[2..6) copied; pos 6 -> 0
    c.record(1, new Uint8Array(0), new Uint8Array(0), 0); // old[0]
    expect(Array.from(applyPatch(new Uint8Array([10, 20, 30, 40, 50, 60]), c.finish()))).toEqual([10, 20, 31, 9, 30, 40, 50, 60, 10]);
  });

  it("throws on malformed patches", () => {
    const old = new Uint8Array(10);
    // Add range past the precursor's end, and before its start.
    expect(() => applyPatch(old, Uint8Array.from([0, 11, 0, 0, ...new Uint8Array(11)]))).toThrow(/outside the precursor/);
    expect(() => applyPatch(old, Uint8Array.from([0, 0, 0, 1, 0, 1, 0, 0, 0]))).toThrow(/outside the precursor/);
    // Copy range past the end, copy plus add past the end, copy before the start.
    expect(() => applyPatch(old, Uint8Array.from([11, 0, 0, 0]))).toThrow(/outside the precursor/);
    expect(() => applyPatch(old, Uint8Array.from([6, 5, 0, 0, ...new Uint8Array(5)]))).toThrow(/outside the precursor/);
    expect(() => applyPatch(old, Uint8Array.from([0, 0, 0, 1, 1, 0, 0, 0]))).toThrow(/outside the precursor/);
    // A seek that takes pos past 2^31 - 1 (an empty range is not checked, the pos is).
    expect(() => applyPatch(old, Uint8Array.from([5, 0, 0, 0xf6, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/32-bit range/);
    expect(Array.from(applyPatch(old, Uint8Array.from([5, 0, 0, 0xf4, 0xff, 0xff, 0xff, 0x0f])))).toEqual([0, 0, 0, 0, 0]);
    // Truncated header, truncated bytes, a 6-byte varint, a value of 2^32.
    expect(() => applyPatch(old, Uint8Array.from([0, 1, 0]))).toThrow(/inside a varint/);
    expect(() => applyPatch(old, Uint8Array.from([0, 2, 0, 0, 1]))).toThrow(/inside the record/);
    expect(() => applyPatch(old, Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0, 0]))).toThrow(/longer than 5/);
    expect(() => applyPatch(old, Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0]))).toThrow(/2\^32/);
  });
});
