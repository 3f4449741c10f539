// Compressed and delta payloads on the simulated device (formats/SPEC.md §15): they install
// into the other slot and boot through the unchanged boot check; a delta for another image is
// refused before anything is written; a signed stream that does not decode, a result that is
// not the signed image, a window above the device's and a device without a decoder are each
// refused with their reason, the running image untouched. And a power cut at EVERY flash
// operation of a compressed and of a delta update (cut half-way and right after): the device
// boots a verified image every time, and the install resumes (from a persisted decoder
// snapshot when there is one) and completes.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Msg, RunMode, getU32 } from "../../formats/device-safe/protocol.js";
import { PayloadCodec, PayloadEncoding } from "../../formats/device-safe/labels.js";
import { SlotState } from "../../device-sim/core/boot/flash-layout.js";
import type { SimDevice } from "../../device-sim/sim/sim-device.js";
import { buildEncodedBundle, type EncodedPayloadSpec } from "../../formats/host-only/bundle-builder.js";
import { encodePayload } from "../../host/bundle/encode-payload.js";
import { chainHeadOf } from "../../host/bundle/precursor.js";
import { inspectBytes } from "../../host/bundle/inspect.js";
import { InProcHost, makeBundle, simDevice, VENDOR, CLASS } from "../helpers/device.js";
import { makeKeys, type TestKeys } from "../helpers/keys.js";
import { sampleImage, textLikeImage } from "../helpers/images.js";
import { cutAtEveryFlashOp, type CutRun } from "../helpers/power-cuts.js";

const CS = 256;
const GEOMETRY = { pageSize: 512, flashSize: 64 * 1024, resumeStride: 1024, maxData: 700 };
const IMG1 = textLikeImage(6000, 1);
// The next release: IMG1 with a changed region, an insertion and a deletion.
const IMG2 = (() => {
  const a = Array.from(IMG1);
  for (let i = 1000; i < 1040; i++) a[i] = (a[i] + 1) & 0xff;
  a.splice(3000, 0, ...Array.from(textLikeImage(150, 9)));
  // New code that is not in the old image: the delta carries it as literal bytes over several
  // wire chunks, so a cut can leave a resume point inside the patch.
  a.splice(2000, 0, ...Array.from(sampleImage(1500, 5)));
  a.splice(5000, 100);
  return Uint8Array.from(a);
})();
const sha = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

let keys: TestKeys;
let raw1: Uint8Array;
let compressed2: Uint8Array;
let delta2: Uint8Array;

async function encoded(image: Uint8Array, wire: Uint8Array, spec: EncodedPayloadSpec, sequence: number): Promise<Uint8Array> {
  return buildEncodedBundle(image, wire, spec, { vendorId: VENDOR, classId: CLASS, sequence, version: `1.0.${sequence}`, chunkSize: CS, sha256: sha }, [keys.releaseSigner]);
}

beforeAll(async () => {
  keys = await makeKeys();
  raw1 = await makeBundle(keys, { image: IMG1, sequence: 1, chunkSize: CS });
  const c = await encodePayload(IMG2, CS, { kind: "compressed", windowBits: 12 });
  compressed2 = await encoded(IMG2, c.wire, { encoding: c.params.encoding, codec: c.params.codec, windowBits: 12 }, 2);
  const head1 = await chainHeadOf(IMG1, CS);
  const d = await encodePayload(IMG2, CS, { kind: "delta", windowBits: 12, precursor: { image: IMG1, chainHead: head1 } });
  delta2 = await encoded(IMG2, d.wire, { encoding: PayloadEncoding.DELTA, codec: PayloadCodec.DEFLATE, windowBits: 12, precursorChainHead: head1, precursorSize: IMG1.length }, 2);
});

/** The envelope's length: where the bundle's first wire chunk starts. */
function envelopeLen(bundle: Uint8Array): number {
  return inspectBytes(bundle.subarray(0, 16384), bundle.length).envelopeSize;
}

function installed(dev: SimDevice): Uint8Array {
  const s = dev.app.runningSlot;
  const si = dev.app.store.state.slots[s];
  const base = dev.app.layout.slotAddr[s];
  return dev.flash.mem.slice(base, base + si.imageSize);
}

function confirmAfterReboot(h: InProcHost): void {
  h.one(Msg.REBOOT);
  expect(h.dev.app.runMode).toBe(RunMode.TEST);
  expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
  h.one(Msg.REBOOT);
}

/** A device running IMG1 (sequence 1, confirmed). */
function deviceWithV1(extra: Record<string, unknown> = {}): InProcHost {
  const dev = simDevice(keys, { ...GEOMETRY, ...extra });
  dev.powerOn();
  const h = new InProcHost(dev);
  expect(h.install(raw1, GEOMETRY.maxData).type).toBe(Msg.R_OK);
  confirmAfterReboot(h);
  return h;
}

function errorOf(f: { type: number; body: Uint8Array }): { reason: number; chunk: number } {
  expect(f.type).toBe(Msg.R_ERROR);
  const c = getU32(f.body, 3);
  return { reason: f.body[2], chunk: c === 0xffffffff ? -1 : c };
}

describe("compressed and delta payloads on the device", () => {
  it("a compressed bundle installs, boots through the boot check and runs the exact image", () => {
    expect(compressed2.length).toBeLessThan(IMG2.length * 0.75);
    const h = deviceWithV1();
    expect(h.install(compressed2, GEOMETRY.maxData).type).toBe(Msg.R_OK);
    confirmAfterReboot(h);
    expect(h.dev.app.bootReason[h.dev.app.runningSlot]).toBe(Reason.OK);
    expect(Buffer.compare(Buffer.from(installed(h.dev)), Buffer.from(IMG2))).toBe(0);
  });

  it("a delta installs against the running image and is a fraction of the raw bundle", () => {
    expect(delta2.length).toBeLessThan(compressed2.length / 2);
    const h = deviceWithV1();
    expect(h.install(delta2, GEOMETRY.maxData).type).toBe(Msg.R_OK);
    confirmAfterReboot(h);
    expect(Buffer.compare(Buffer.from(installed(h.dev)), Buffer.from(IMG2))).toBe(0);
  });

  it("a delta for another image is WRONG_PRECURSOR before a byte of the target slot is written; so is one on an empty device", () => {
    const dev = simDevice(keys, GEOMETRY);
    dev.powerOn();
    const h = new InProcHost(dev);
    const e = errorOf(h.install(delta2, GEOMETRY.maxData));
    expect(e.reason).toBe(Reason.WRONG_PRECURSOR);
    const h2 = deviceWithV1();
    expect(h2.install(compressed2, GEOMETRY.maxData).type).toBe(Msg.R_OK); // now runs nothing yet: PENDING
    confirmAfterReboot(h2); // runs IMG2
    const target = 1 - h2.dev.app.runningSlot;
    const before = h2.dev.flash.mem.slice(h2.dev.app.layout.slotAddr[target], h2.dev.app.layout.slotAddr[target] + 8192);
    const e2 = errorOf(h2.install(delta2, GEOMETRY.maxData));
    expect(e2.reason).toBe(Reason.WRONG_PRECURSOR);
    const after = h2.dev.flash.mem.slice(h2.dev.app.layout.slotAddr[target], h2.dev.app.layout.slotAddr[target] + 8192);
    expect(Buffer.compare(Buffer.from(before), Buffer.from(after))).toBe(0);
    expect(h2.dev.app.store.state.slots[target].state).not.toBe(SlotState.INSTALLING);
  });

  it("signed but bad payloads are refused with their reason and the running image keeps running", async () => {
    const head1 = await chainHeadOf(IMG1, CS);
    const deflate = (d: Uint8Array, w = 12): Uint8Array => new Uint8Array(zlib.deflateRawSync(d, { windowBits: w, level: 9 }));
    // One chunk of valid deflate, then garbage in the second (BAD_PAYLOAD at chunk 1).
    const first = deflate(IMG2.subarray(0, 200));
    const chunk0 = new Uint8Array(CS);
    chunk0.set(first);
    const corrupt = new Uint8Array(CS + 40);
    corrupt.set(chunk0);
    corrupt.fill(0xff, CS);
    // A patch whose add range leaves the precursor: add-len 100 after seeking past the end.
    const patch = Uint8Array.of(0, 0, 0, 0xc0, 0xbb, 0x01 /* seek +12000 (zigzag) */, 0, 100, 0, 0);
    // A stream that decodes to another image than the manifest names.
    const other = IMG2.slice();
    other[10] ^= 1;
    const cases: [string, Uint8Array, EncodedPayloadSpec, number, number][] = [
      ["corrupt deflate", corrupt, { encoding: PayloadEncoding.COMPRESSED, codec: PayloadCodec.DEFLATE, windowBits: 12 }, Reason.BAD_PAYLOAD, 1],
      ["patch outside the precursor", patch, { encoding: PayloadEncoding.DELTA, codec: PayloadCodec.NONE, precursorChainHead: head1, precursorSize: IMG1.length }, Reason.BAD_PAYLOAD, 0],
      ["result mismatch", (await encodePayload(other, CS, { kind: "compressed" })).wire, { encoding: PayloadEncoding.COMPRESSED, codec: PayloadCodec.DEFLATE, windowBits: 12 }, Reason.RESULT_MISMATCH, -1],
      ["window above the device's", (await encodePayload(IMG2, CS, { kind: "compressed", windowBits: 13 })).wire, { encoding: PayloadEncoding.COMPRESSED, codec: PayloadCodec.DEFLATE, windowBits: 13 }, Reason.TOO_LARGE, -1]
    ];
    for (const [name, wire, spec, reason, chunk] of cases) {
      const b = await encoded(IMG2, wire, spec, 2);
      const h = deviceWithV1();
      const e = errorOf(h.install(b, GEOMETRY.maxData));
      expect({ name, ...e }).toEqual({ name, reason, chunk });
      h.one(Msg.REBOOT);
      expect(h.dev.app.runMode).toBe(RunMode.NORMAL);
      expect(Buffer.compare(Buffer.from(installed(h.dev)), Buffer.from(IMG1))).toBe(0);
    }
    // A device without a decoder refuses the encoding itself.
    const h = deviceWithV1({ maxWindowBits: 0 });
    expect(errorOf(h.install(compressed2, GEOMETRY.maxData)).reason).toBe(Reason.UNSUPPORTED_ENCODING);
  });
});

// ---------------------------------------------------------------- power cuts

function update(h: InProcHost, bundle: Uint8Array): void {
  const r = h.install(bundle, GEOMETRY.maxData);
  expect(r.type).toBe(Msg.R_OK);
  h.one(Msg.REBOOT);
  expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
  h.one(Msg.REBOOT);
}

function checkRunsVerified(dev: SimDevice): void {
  const s = dev.app.runningSlot;
  expect(s).toBeGreaterThanOrEqual(0);
  expect(dev.app.bootReason[s]).toBe(Reason.OK);
  const si = dev.app.store.state.slots[s];
  const img = si.sequence === 1 ? IMG1 : IMG2;
  expect(Buffer.compare(Buffer.from(installed(dev)), Buffer.from(img))).toBe(0);
}

function finish(h: InProcHost, bundle: Uint8Array): boolean {
  const dev = h.dev;
  if (dev.app.runMode === RunMode.TEST) h.one(Msg.CONFIRM);
  const st = dev.app.store.state;
  const running = st.slots[dev.app.runningSlot];
  let resumedFrom = -1;
  if (!(running.sequence === 2 && running.state === SlotState.CONFIRMED)) {
    const status = h.one(Msg.STATUS);
    if (status.body[12] !== 0xff) {
      const r = h.one(Msg.RESUME, sha(bundle.subarray(0, envelopeLen(bundle))));
      if (r.type === Msg.R_OK) resumedFrom = getU32(r.body, 2);
    }
    const end = h.install(bundle, GEOMETRY.maxData, resumedFrom);
    expect(end.type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    h.one(Msg.CONFIRM);
    h.one(Msg.REBOOT);
  }
  expect(dev.app.runMode).toBe(RunMode.NORMAL);
  expect(st.slots[dev.app.runningSlot].sequence).toBe(2);
  checkRunsVerified(dev);
  return resumedFrom > envelopeLen(bundle);
}

function exhaustive(bundle: Uint8Array): CutRun {
  const base = deviceWithV1().dev.flash.mem.slice();
  return cutAtEveryFlashOp(() => simDevice(keys, GEOMETRY), base, (h) => update(h, bundle), (h) => {
    checkRunsVerified(h.dev);
    return finish(h, bundle);
  });
}

describe("power cut at every flash operation of an encoded update", () => {
  it("compressed: always boots a verified image, then completes (resuming mid-stream)", () => {
    const r = exhaustive(compressed2);
    console.log(`compressed update: ${r.ops} flash operations, ${r.runs} cuts, ${r.resumed} resumed mid-stream`);
    expect(r.ops).toBeGreaterThan(20);
    expect(r.runs).toBe(2 * r.ops);
    expect(r.resumed).toBeGreaterThan(0);
  });

  it("delta: always boots a verified image, then completes, resuming mid-patch (the precursor is the running image, never written)", () => {
    const r = exhaustive(delta2);
    console.log(`delta update: ${r.ops} flash operations, ${r.runs} cuts, ${r.resumed} resumed mid-stream`);
    expect(r.runs).toBe(2 * r.ops);
    expect(r.resumed).toBeGreaterThan(0);
  });
});
