// Serial framing (COBS + CRC-32) and the state-area record: round trips at the COBS block
// boundaries, corrupted / truncated / oversized frames dropped, resynchronisation after
// line noise, and the two-copy state record surviving a torn write.
import { describe, it, expect } from "vitest";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { crc32 } from "../device-sim/core/crc32.js";
import { createFrameDecoder, createFrameEncoder, maxWireLen } from "../device-sim/core/framing.js";
import { computeLayout, createStateStore, SlotState } from "../device-sim/core/flash-layout.js";
import { SimFlash, PowerCut } from "../device-sim/sim/sim-flash.js";

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

describe("COBS framing", () => {
  const enc = createFrameEncoder(2000);
  const dec = createFrameDecoder(2000);

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
    const small = createFrameDecoder(100); // 300-byte body does not fit
    expect(frames(small, good)).toEqual([]);
    expect(small.dropped).toBe(1);
    const before = dec.dropped;
    const stream = Uint8Array.of(...noise, 0, ...flipped, ...truncated, ...good);
    expect(frames(dec, stream)).toEqual([body]);
    expect(dec.dropped - before).toBe(4); // noise (2 frames), flipped, truncated
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
