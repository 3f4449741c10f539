// Serial framing (COBS + CRC-32) and the state-area record: round trips at the COBS block
// boundaries, corrupted / truncated / oversized frames dropped, resynchronisation after
// line noise, and the two-copy state record surviving a torn write.
import { describe, it, expect } from "vitest";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { crc32 } from "../../device-sim/core/update/crc32.js";
import { createFrameDecoder, createFrameEncoder, maxWireLen } from "../../device-sim/core/update/framing.js";
import { computeLayout, createStateStore, SlotState } from "../../device-sim/core/boot/flash-layout.js";
import { SimFlash, PowerCut } from "../../device-sim/sim/sim-flash.js";
import { nodeByteScans } from "../../device-sim/sim/node-byte-scans.js";
import { createPurePrimitives } from "../../device-sim/core/crypto/pure-primitives.js";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";

// The decoder's two paths: the per-byte loop, and a platform's native crc32 + findZero (the
// simulator's, zlib and indexOf), counted so a test can tell the native path really ran.
const scans = nodeByteScans();
if (!scans) throw new Error("this Node has no zlib.crc32 (Node >= 20.15 is needed for these tests)");
const calls = { crc32: 0, findZero: 0 };
const native: Primitives = {
  ...createPurePrimitives(),
  crc32: (b, o, l) => (calls.crc32++, scans.crc32(b, o, l)),
  findZero: (b, f, t) => (calls.findZero++, scans.findZero(b, f, t)),
};
const variants: [string, Primitives | undefined][] = [["per-byte loop", undefined], ["native crc32 + findZero", native]];

function frames(dec: ReturnType<typeof createFrameDecoder>, wire: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < wire.length) {
    const n = dec.push(wire, pos, wire.length - pos);
    pos += dec.consumed;
    if (n >= 0) out.push(dec.frame.slice(0, n));
  }
  return out;
}

describe("crc32", () => {
  it("matches zlib's CRC-32 (check value 0xCBF43926)", () => {
    const b = Buffer.from("123456789");
    expect(crc32(b, 0, b.length)).toBe(0xcbf43926);
    const r = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
    expect(crc32(r, 0, r.length)).toBe(zlib.crc32(r));
  });
});

describe.each(variants)("COBS framing, %s", (_name, prims) => {
  const enc = createFrameEncoder(2000);
  const dec = createFrameDecoder(2000, prims);

  it("round-trips bodies of every length around the 254-byte COBS block, zeros included", () => {
    for (const len of [5, 253, 254, 255, 256, 507, 508, 509, 1000, 2000]) {
      for (const fill of [0, 0xff, -1]) {
        const body = new Uint8Array(len).map((_, i) => (fill < 0 ? (i * 7) & 0xff : fill));
        enc.body.set(body);
        const n = enc.encode(len);
        expect(n).toBeLessThanOrEqual(maxWireLen(len));
        const wire = enc.wire.slice(0, n);
        expect(wire.indexOf(0)).toBe(n - 1); // the only zero is the delimiter
        expect(frames(dec, wire)).toEqual([body]);
      }
    }
  });

  it("round-trips random bodies, split anywhere", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 1500 }), fc.integer({ min: 1, max: 50 }), (body, step) => {
        enc.body.set(body);
        const wire = enc.wire.slice(0, enc.encode(body.length));
        const got: Uint8Array[] = [];
        for (let off = 0; off < wire.length; off += step) got.push(...frames(dec, wire.subarray(off, Math.min(wire.length, off + step))));
        expect(got).toEqual([body]);
      }),
      { numRuns: 200 }
    );
  });

  it("drops corrupted, truncated and oversized frames and resynchronises at the next delimiter", () => {
    const body = new Uint8Array(300).map((_, i) => i & 0xff);
    enc.body.set(body);
    const good = enc.wire.slice(0, enc.encode(300));
    const flipped = good.slice();
    flipped[100] ^= 0x10;
    const truncated = Uint8Array.of(...good.subarray(0, 150), 0);
    const noise = Uint8Array.of(1, 2, 3, 0, 0, 0x55, 0xaa);
    const small = createFrameDecoder(100, prims); // 300-byte body does not fit
    expect(frames(small, good)).toEqual([]);
    expect(small.dropped).toBe(1);
    const before = dec.dropped;
    const stream = Uint8Array.of(...noise, 0, ...flipped, ...truncated, ...good);
    expect(frames(dec, stream)).toEqual([body]);
    expect(dec.dropped - before).toBe(4); // noise (2 frames), flipped, truncated
  });
});

// Reference decoder: the straightforward byte-at-a-time COBS + CRC receiver the fast one
// replaced (one state step per byte, CRC computed over the body at the delimiter).
function referenceFrames(maxBody: number, wire: Uint8Array): { frames: Uint8Array[]; dropped: number } {
  const cap = maxBody + 4;
  const data = new Uint8Array(cap);
  const out: Uint8Array[] = [];
  let n = 0, remaining = 0, prevCode = 0, bad = false, dropped = 0;
  const put = (b: number) => {
    if (n < cap) data[n++] = b;
    else bad = true;
  };
  for (const b of wire) {
    if (b === 0) {
      if (n === 0 && prevCode === 0) {
        // empty frame
      } else if (bad || remaining !== 0 || n < 5) dropped++;
      else {
        const bodyLen = n - 4;
        const want = (data[bodyLen] | (data[bodyLen + 1] << 8) | (data[bodyLen + 2] << 16) | (data[bodyLen + 3] << 24)) >>> 0;
        if (zlib.crc32(data.subarray(0, bodyLen)) === want) out.push(data.slice(0, bodyLen));
        else dropped++;
      }
      n = 0; remaining = 0; prevCode = 0; bad = false;
    } else if (remaining === 0) {
      if (prevCode !== 0 && prevCode !== 0xff) put(0);
      prevCode = b;
      remaining = b - 1;
    } else {
      put(b);
      remaining--;
    }
  }
  return { frames: out, dropped };
}

describe.each(variants)("COBS decoder against the byte-at-a-time reference, %s", (_name, prims) => {
  it("agrees on streams of valid, damaged, oversized and noise frames, split anywhere", () => {
    const enc = createFrameEncoder(3000);
    const piece = fc.oneof(
      // a valid frame (zero-dense or sparse body), optionally damaged
      fc.record({
        body: fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 1200 }), fc.array(fc.constantFrom(0, 0, 1, 0xff, 7), { maxLength: 700 }).map((a) => Uint8Array.from(a))),
        flip: fc.integer({ min: -3, max: 2000 }),
        cut: fc.integer({ min: -3, max: 2000 })
      }).map(({ body, flip, cut }) => {
        enc.body.set(body);
        const w = enc.wire.slice(0, enc.encode(body.length));
        if (flip >= 0 && flip < w.length - 1) w[flip] ^= 1 << (flip & 7);
        if (cut >= 0 && cut < w.length - 1) return Uint8Array.of(...w.subarray(0, cut), 0);
        return w;
      }),
      fc.uint8Array({ maxLength: 40 }) // line noise
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.integer({ min: 1, max: 600 }), fc.constantFrom(100, 1000, 3000), (pieces, step, maxBody) => {
        const wire = Uint8Array.from(pieces.flatMap((p) => Array.from(p)));
        const ref = referenceFrames(maxBody, wire);
        const dec = createFrameDecoder(maxBody, prims);
        const got: Uint8Array[] = [];
        for (let off = 0; off < wire.length; off += step) got.push(...frames(dec, wire.subarray(off, Math.min(wire.length, off + step))));
        expect(got).toEqual(ref.frames);
        expect(dec.dropped).toBe(ref.dropped);
      }),
      { numRuns: 300 }
    );
  });

  it("never writes past its buffer (a frame longer than maxBody is dropped, the next one kept)", () => {
    const enc = createFrameEncoder(600);
    const long = new Uint8Array(600).fill(9);
    enc.body.set(long);
    const w1 = enc.wire.slice(0, enc.encode(600));
    enc.body.set(long.subarray(0, 96));
    const w2 = enc.wire.slice(0, enc.encode(96));
    const dec = createFrameDecoder(96, prims); // buffer 100 bytes: body 96 + CRC fits exactly
    expect(dec.frame.length).toBe(100);
    expect(frames(dec, Uint8Array.of(...w1, ...w2))).toEqual([long.subarray(0, 96)]);
    expect(dec.dropped).toBe(1);
  });
});

describe("native scans", () => {
  it("the native path scans natively and checks the CRC once per frame: no per-byte CRC", () => {
    const enc = createFrameEncoder(4096);
    const body = new Uint8Array(4096).map((_, i) => (i * 13 + 1) & 0xff); // zeros every 256 bytes
    enc.body.set(body);
    const wire = enc.wire.slice(0, enc.encode(4096));
    calls.crc32 = 0;
    calls.findZero = 0;
    const dec = createFrameDecoder(4096, native);
    expect(frames(dec, wire)).toEqual([body]);
    expect(calls.crc32).toBe(1);
    expect(calls.findZero).toBeGreaterThanOrEqual(16); // one per COBS run of 8 or more bytes
    const bad = wire.slice();
    bad[2000] ^= 4;
    expect(frames(dec, bad)).toEqual([]);
    expect(dec.dropped).toBe(1);
    expect(calls.crc32).toBe(2);
    // one of the pair is not enough: the decoder keeps its loop
    const half = createFrameDecoder(4096, { ...createPurePrimitives(), crc32: native.crc32 });
    calls.crc32 = 0;
    expect(frames(half, wire)).toEqual([body]);
    expect(calls.crc32).toBe(0);
  });
});

describe("state area", () => {
  it("keeps the previous record when a write is torn, and alternates copies", () => {
    const flash = new SimFlash({ pageSize: 512, flashSize: 64 * 1024 });
    const layout = computeLayout(512, 64 * 1024)!;
    const a = createStateStore(flash, layout);
    a.load();
    expect(a.current).toBe(-1);
    a.state.minSequence = 2 ** 40 + 5; // above 32 bits
    a.state.slots[1].state = SlotState.CONFIRMED;
    a.save();
    a.state.minSequence = 7;
    flash.cutAt = flash.ops + 2; // the write of the second record, half done
    expect(() => a.save()).toThrow(PowerCut);
    flash.cutAt = 0;
    const b = createStateStore(flash, layout);
    b.load();
    expect(b.state.minSequence).toBe(2 ** 40 + 5);
    expect(b.state.slots[1].state).toBe(SlotState.CONFIRMED);
    b.state.minSequence = 9;
    b.save();
    const c = createStateStore(flash, layout);
    c.load();
    expect(c.state.minSequence).toBe(9);
    expect(c.current).toBe(1); // record 1 in copy 0 (torn write in copy 1), record 3 in copy 1
  });
});
