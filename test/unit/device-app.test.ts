// Device application logic on the simulator, in-process (no serial line): install, boot-time
// verification, test / confirm / revert, anti-rollback, rejection leaves the active image
// untouched, resume from the persisted chunk.
import { describe, it, expect, beforeAll } from "vitest";
import { Reason } from "../../formats/device-safe/reasons.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { Msg, RunMode, getU32 } from "../../formats/device-safe/protocol.js";
import { SlotState } from "../../device-sim/core/boot/flash-layout.js";
import { InProcHost, makeBundle, simDevice, OTHER_CLASS } from "../helpers/device.js";
import { makeKeys, delegatedSigner, type TestKeys } from "../helpers/keys.js";
import { LocalSigner } from "../../host/keys/keys.js";
import { buildCertificate } from "../../formats/host-only/certificate.js";
import type { SimDevice } from "../../device-sim/sim/sim-device.js";
import { sampleImage } from "../helpers/images.js";

let keys: TestKeys;
let v1: Uint8Array;
let v2: Uint8Array;

beforeAll(async () => {
  keys = await makeKeys();
  v1 = await makeBundle(keys, { image: sampleImage(20000, 1), sequence: 1 });
  v2 = await makeBundle(keys, { image: sampleImage(30000, 2), sequence: 2 });
});

function errReason(f: { type: number; body: Uint8Array }): number {
  expect(f.type).toBe(Msg.R_ERROR);
  return f.body[2];
}

function errChunk(f: { body: Uint8Array }): number {
  const c = getU32(f.body, 3);
  return c === 0xffffffff ? -1 : c;
}

function reboot(h: InProcHost): void {
  expect(h.one(Msg.REBOOT).type).toBe(Msg.R_OK);
}

/** A device with the test root, powered on with nothing installed, and a host driving it. */
function poweredDevice(): { dev: SimDevice; h: InProcHost } {
  const dev = simDevice(keys);
  dev.powerOn();
  return { dev, h: new InProcHost(dev) };
}

/** Installs `bundle`, boots it as the test image and confirms it. */
function installAndConfirm(h: InProcHost, bundle: Uint8Array): void {
  h.install(bundle);
  reboot(h);
  h.one(Msg.CONFIRM);
}

describe("device app: install, boot, confirm, revert", () => {
  it("a fresh device runs nothing (recovery mode) and still accepts an update", () => {
    const dev = simDevice(keys);
    dev.powerOn();
    expect(dev.app.runningSlot).toBe(-1);
    expect(dev.app.runMode).toBe(RunMode.RECOVERY);
    const h = new InProcHost(dev);
    expect(h.info().type).toBe(Msg.R_INFO);
    const last = h.install(v1);
    expect(last.type).toBe(Msg.R_OK); // END: committed
    expect(getU32(last.body, 2)).toBe(v1.length);
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
    expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
    expect(dev.app.store.state.minSequence).toBe(1);
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
  });

  it("an update that is never confirmed reverts at the next reset; anti-rollback does not advance", () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v1);
    const a = dev.app.runningSlot;
    expect(h.install(v2).type).toBe(Msg.R_OK);
    reboot(h);
    expect(dev.app.runningSlot).toBe(1 - a);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    // No confirm: reset.
    reboot(h);
    expect(dev.app.reverted).toBe(1);
    expect(dev.app.runningSlot).toBe(a);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.store.state.minSequence).toBe(1);
    expect(dev.app.store.state.slots[1 - a].state).toBe(SlotState.EMPTY);
  });

  it("BEGIN is refused while an unconfirmed test image runs", () => {
    const { h } = poweredDevice();
    h.install(v1);
    reboot(h);
    expect(errReason(h.one(Msg.BEGIN, Uint8Array.of(0, 0, 0, 0, 0)))).toBe(Reason.BAD_STATE);
  });

  it("rollback, wrong class and a tampered chunk are rejected; the active image is untouched", async () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v2);
    const active = dev.app.runningSlot;
    const before = dev.flash.mem.slice(dev.app.layout.slotAddr[active], dev.app.layout.slotAddr[active] + dev.app.layout.slotSize);

    expect(errReason(h.install(v1))).toBe(Reason.ROLLBACK);
    const wrong = await makeBundle(keys, { image: sampleImage(5000, 3), sequence: 5, classId: OTHER_CLASS });
    expect(errReason(h.install(wrong))).toBe(Reason.WRONG_CLASS);
    const v3 = await makeBundle(keys, { image: sampleImage(40000, 4), sequence: 3 });
    const envLen = v3.length - 40000 - 32 * 10;
    const bad = v3.slice();
    bad[envLen + 5 * (4096 + 32) + 100] ^= 1; // flip a bit in chunk 5
    const r = h.install(bad);
    expect(errReason(r)).toBe(Reason.CHUNK_HASH_MISMATCH);
    expect(errChunk(r)).toBe(5);
    // Further data after a rejection keeps reporting it.
    expect(errReason(h.data(bad, 0, 10))).toBe(Reason.CHUNK_HASH_MISMATCH);

    expect(dev.flash.mem.slice(dev.app.layout.slotAddr[active], dev.app.layout.slotAddr[active] + dev.app.layout.slotSize)).toEqual(before);
    reboot(h);
    expect(dev.app.runningSlot).toBe(active);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
  });

  it("a truncated stream is TRUNCATED at END; trailing bytes are TRAILING_DATA; neither is marked for boot", () => {
    const { dev, h } = poweredDevice();
    const cut = v2.subarray(0, v2.length - 100);
    const r = h.install(cut);
    expect(errReason(r)).toBe(Reason.TRUNCATED);
    expect(errChunk(r)).toBe(7);
    const longer = new Uint8Array(v2.length + 1);
    longer.set(v2);
    expect(errReason(h.install(longer))).toBe(Reason.TRAILING_DATA);
    reboot(h);
    expect(dev.app.runningSlot).toBe(-1);
  });

  it("a release whose key-epoch floor is above its signer's epoch, or more than MAX_EPOCH_STEP above the device's, is refused at install", async () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v1);
    // keys.releaseSigner is delegated at epoch 1: a floor of 2 would revoke it on confirm.
    const selfRevoking = await makeBundle(keys, { image: sampleImage(8000, 8), sequence: 2, keyEpochFloor: 2 });
    expect(errReason(h.install(selfRevoking))).toBe(Reason.KEY_NOT_AUTHORIZED);
    const rootSigned = { ...keys, releaseSigner: keys.rootSigner };
    const tooFar = await makeBundle(rootSigned, { image: sampleImage(8000, 8), sequence: 2, keyEpochFloor: Limits.MAX_EPOCH_STEP + 1 });
    expect(errReason(h.install(tooFar))).toBe(Reason.TOO_LARGE);
    const exhaust = await makeBundle(rootSigned, { image: sampleImage(8000, 8), sequence: 2, keyEpochFloor: Number.MAX_SAFE_INTEGER });
    expect(errReason(h.install(exhaust))).toBe(Reason.TOO_LARGE);
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.store.state.minEpoch).toBe(0);
    // A full step from the root is accepted and confirmed.
    const fullStep = await makeBundle(rootSigned, { image: sampleImage(8000, 8), sequence: 2, keyEpochFloor: Limits.MAX_EPOCH_STEP });
    installAndConfirm(h, fullStep);
    expect(dev.app.store.state.minEpoch).toBe(Limits.MAX_EPOCH_STEP);
    reboot(h);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
  });

  it("certificate validity is checked at install, not at boot: a confirmed delegated image keeps booting after its not-after", async () => {
    let now = 1800000000;
    const dev = simDevice(keys, { now: () => now });
    dev.powerOn();
    const h = new InProcHost(dev);
    const shortCert = await buildCertificate(keys.rootSigner, { publicKey: keys.release.publicKey, epoch: 1, notBefore: now - 100, notAfter: now + 100 });
    const shortKeys = { ...keys, releaseSigner: new LocalSigner(keys.release.privateKey, shortCert) };
    installAndConfirm(h, await makeBundle(shortKeys, { image: sampleImage(8000, 11), sequence: 1 }));
    // Installed inside the window, test-booted and confirmed after it.
    expect(h.install(await makeBundle(shortKeys, { image: sampleImage(8000, 12), sequence: 2 })).type).toBe(Msg.R_OK);
    now += 1000;
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
    expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
    // A year later the confirmed image still boots; a new install with that certificate does not.
    now += 365 * 86400;
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
    expect(dev.app.store.state.minSequence).toBe(2);
    expect(errReason(h.install(await makeBundle(shortKeys, { image: sampleImage(8000, 13), sequence: 3 })))).toBe(Reason.EXPIRED_KEY);
  });

  it("an equal sequence only re-installs the running release: a different image at that sequence is ROLLBACK", async () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v1);
    const running = dev.app.runningSlot;
    const sibling = await makeBundle(keys, { image: sampleImage(20000, 77), sequence: 1 });
    const r = h.install(sibling);
    expect(errReason(r)).toBe(Reason.ROLLBACK);
    expect(errChunk(r)).toBe(-1);
    reboot(h);
    expect(dev.app.runningSlot).toBe(running);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    // The same release (same chain head, even re-signed) re-installs, boots and confirms.
    expect(h.install(await makeBundle(keys, { image: sampleImage(20000, 1), sequence: 1, version: "1.0.1-resigned" })).type).toBe(Msg.R_OK);
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    expect(h.one(Msg.CONFIRM).type).toBe(Msg.R_OK);
    // A higher sequence is a new release as always.
    expect(h.install(v2).type).toBe(Msg.R_OK);
  });

  it("confirming a release with a key-epoch floor revokes older release keys", async () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v1);
    const newKeys = { ...keys, releaseSigner: await delegatedSigner(keys.rootSigner, 2) };
    const floor = await makeBundle(newKeys, { image: sampleImage(8000, 8), sequence: 2, keyEpochFloor: 2 });
    expect(h.install(floor).type).toBe(Msg.R_OK);
    reboot(h);
    expect(dev.app.store.state.minEpoch).toBe(0); // not before confirm
    h.one(Msg.CONFIRM);
    expect(dev.app.store.state.minEpoch).toBe(2);
    const oldKey = await makeBundle(keys, { image: sampleImage(8000, 9), sequence: 3 });
    expect(errReason(h.install(oldKey))).toBe(Reason.REVOKED_KEY);
    reboot(h);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
  });

  it("a corrupted confirmed image is never booted", () => {
    const { dev, h } = poweredDevice();
    installAndConfirm(h, v1);
    const s = dev.app.runningSlot;
    dev.flash.mem[dev.app.layout.slotAddr[s] + 1234] ^= 0x10; // bit rot
    reboot(h);
    expect(dev.app.bootReason[s]).toBe(Reason.CHUNK_HASH_MISMATCH);
    expect(dev.app.runningSlot).toBe(-1);
  });
});
