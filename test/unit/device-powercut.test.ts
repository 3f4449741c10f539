// Power cut at EVERY flash operation of an update, exhaustively: each operation is cut
// half-way (half a page erased / half the bytes programmed) and, separately, right after it
// completes. After each cut the device powers on again and must run an image that its boot
// loader verified in that boot (signature + chunk chain over flash), with the content of a
// release it was given; then the update is finished (resumed where possible) and must end
// with the new image confirmed. Also for a first install on an empty device.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Msg, RunMode, getU32 } from "../../formats/device-safe/protocol.js";
import { SlotState } from "../../device-sim/core/boot/flash-layout.js";
import type { SimDevice } from "../../device-sim/sim/sim-device.js";
import { InProcHost, makeBundle, simDevice } from "../helpers/device.js";
import { makeKeys, type TestKeys } from "../helpers/keys.js";
import { sampleImage } from "../helpers/images.js";
import { cutAtEveryFlashOp, type CutRun } from "../helpers/power-cuts.js";

const GEOMETRY = { pageSize: 512, flashSize: 64 * 1024, resumeStride: 1024, maxData: 700 };
const IMG1 = sampleImage(2500, 11);
const IMG2 = sampleImage(3000, 12);
let keys: TestKeys;
let b1: Uint8Array;
let b2: Uint8Array;

beforeAll(async () => {
  keys = await makeKeys();
  b1 = await makeBundle(keys, { image: IMG1, sequence: 1, chunkSize: 256 });
  b2 = await makeBundle(keys, { image: IMG2, sequence: 2, chunkSize: 256 });
});

function envelopeLen(bundle: Uint8Array, imageSize: number, chunkSize: number): number {
  return bundle.length - imageSize - 32 * Math.ceil(imageSize / chunkSize);
}

/** The update under test: install b2, END, reboot (test boot), confirm, reboot. */
function update(h: InProcHost): void {
  const r = h.install(b2, GEOMETRY.maxData);
  expect(r.type).toBe(Msg.R_OK);
  h.one(Msg.REBOOT);
  expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
  h.one(Msg.REBOOT);
}

/** Invariant after any power-on: runs a verified image whose bytes are a release's. */
function checkRunsVerified(dev: SimDevice, allowRecovery: boolean): void {
  const app = dev.app;
  if (app.runningSlot < 0) {
    expect(allowRecovery).toBe(true);
    return;
  }
  const s = app.runningSlot;
  expect(app.bootReason[s]).toBe(Reason.OK);
  const si = app.store.state.slots[s];
  const img = si.sequence === 1 ? IMG1 : IMG2;
  expect(si.imageSize).toBe(img.length);
  const base = app.layout.slotAddr[s];
  expect(Buffer.compare(Buffer.from(dev.flash.mem.subarray(base, base + img.length)), Buffer.from(img))).toBe(0);
}

/** After the cut: finish the update (resume if the device kept a resume point). */
function finish(h: InProcHost): void {
  const dev = h.dev;
  if (dev.app.runMode === RunMode.TEST) {
    // The cut hit after the test boot: confirm what runs (it was verified this boot).
    h.one(Msg.CONFIRM);
  }
  const st = dev.app.store.state;
  const running = dev.app.runningSlot >= 0 ? st.slots[dev.app.runningSlot] : null;
  if (!(running && running.sequence === 2 && running.state === SlotState.CONFIRMED)) {
    let from = -1;
    const status = h.one(Msg.STATUS);
    if (status.body[12] !== 0xff) {
      const envLen = envelopeLen(b2, IMG2.length, 256);
      const hash = createHash("sha256").update(b2.subarray(0, envLen)).digest();
      const r = h.one(Msg.RESUME, new Uint8Array(hash));
      if (r.type === Msg.R_OK) from = getU32(r.body, 2);
    }
    const end = h.install(b2, GEOMETRY.maxData, from);
    expect(end.type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    h.one(Msg.CONFIRM);
    h.one(Msg.REBOOT);
  }
  expect(dev.app.runMode).toBe(RunMode.NORMAL);
  expect(dev.app.store.state.slots[dev.app.runningSlot].sequence).toBe(2);
  expect(dev.app.store.state.minSequence).toBe(2);
  checkRunsVerified(dev, false);
}

function baseline(withV1: boolean): Uint8Array {
  const dev = simDevice(keys, GEOMETRY);
  dev.powerOn();
  if (withV1) {
    const h = new InProcHost(dev);
    expect(h.install(b1, GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    h.one(Msg.CONFIRM);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
  }
  return dev.flash.mem.slice();
}

function exhaustive(snapshot: Uint8Array, hadImage: boolean): CutRun {
  return cutAtEveryFlashOp(() => simDevice(keys, GEOMETRY), snapshot, update, (h) => {
    const dev = h.dev;
    checkRunsVerified(dev, !hadImage);
    if (hadImage) expect(dev.app.runningSlot).toBeGreaterThanOrEqual(0);
    const resumed = dev.app.store.state.slots.some((s) => s.state === SlotState.INSTALLING) && dev.app.store.state.nextChunk > 0;
    finish(h);
    return resumed;
  });
}

describe("power cut at every flash operation", () => {
  it("update over a confirmed image: always boots a verified image, then completes", () => {
    const r = exhaustive(baseline(true), true);
    console.log(`update: ${r.ops} flash operations, ${r.runs} cuts, ${r.resumed} left a resume point`);
    expect(r.ops).toBeGreaterThan(30);
    expect(r.runs).toBe(2 * r.ops);
    expect(r.resumed).toBeGreaterThan(0); // some cuts resumed from a persisted chunk
  });

  it("first install on an empty device: never boots an unverified image", () => {
    const r = exhaustive(baseline(false), false);
    console.log(`first install: ${r.ops} flash operations, ${r.runs} cuts`);
    expect(r.runs).toBe(2 * r.ops);
  });
});
