// Root retirement (RETIRE_ROOT, formats/PROTOCOL.md §3, SPEC §11) in the device core,
// in-process: statement fragments, refusal while a test image runs, the persisted mask at
// boot, an old state record format, and a power cut at every flash operation of the state
// write. The same statements over a real serial line: test/system/root-retirement-serial.
import { describe, it, expect, beforeAll } from "vitest";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { MAX_ROOT_STATEMENT } from "../../formats/device-safe/limits.js";
import { crc32 } from "../../device-sim/core/update/crc32.js";
import { Msg, RunMode, RETIRE_HEADER_LEN, getU16, getU32, getU53, putU16 } from "../../formats/device-safe/protocol.js";
import { SlotState, STATE_RECORD_LEN } from "../../device-sim/core/boot/flash-layout.js";
import { SimDevice } from "../../device-sim/sim/sim-device.js";
import { PowerCut, type CutMode } from "../../device-sim/sim/sim-flash.js";
import type { KeyPair, LocalSigner } from "../../host/keys/keys.js";
import { InProcHost, VENDOR, CLASS } from "../helpers/device.js";
import { sampleImage } from "../helpers/images.js";
import { makeRetirementKeys, retirementStatement, rootsOf, signedBundle as bundle, type RetirementKeys, type StatementOptions } from "../helpers/root-retirement.js";

let keys: RetirementKeys;
let root0: KeyPair;
let root1: KeyPair;
let root2: KeyPair;
let via0: LocalSigner;
let via1: LocalSigner;

const statement = (counter: number, o: StatementOptions = {}): Promise<Uint8Array> => retirementStatement(keys, counter, o);

beforeAll(async () => {
  keys = await makeRetirementKeys();
  ({ root0, root1, root2, via0, via1 } = keys);
});

const GEOMETRY = { pageSize: 512, flashSize: 64 * 1024, resumeStride: 1024, maxData: 700 };

function retireFrame(stmt: Uint8Array, off: number, n: number): Uint8Array {
  const p = new Uint8Array(RETIRE_HEADER_LEN - 2 + n);
  putU16(p, 0, stmt.length);
  putU16(p, 2, off);
  p.set(stmt.subarray(off, off + n), 4);
  return p;
}

function memDevice(): SimDevice {
  const d = new SimDevice({ roots: [root0.publicKey, root1.publicKey], vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
  d.powerOn();
  return d;
}

describe("RETIRE_ROOT in the device core", () => {
  let base: Uint8Array; // flash of a device running a confirmed release via root 1
  let stmt: Uint8Array;

  beforeAll(async () => {
    const dev = memDevice();
    const h = new InProcHost(dev);
    expect(h.install(await bundle(via1, 1, sampleImage(2500, 5), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    h.one(Msg.CONFIRM);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    base = dev.flash.mem.slice();
    stmt = await statement(77, { note: "power" });
  });

  function device(): { dev: SimDevice; h: InProcHost } {
    const dev = new SimDevice({ roots: [root0.publicKey, root1.publicKey], vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
    dev.flash.mem.set(base);
    dev.powerOn();
    return { dev, h: new InProcHost(dev) };
  }

  it("fragments: in order, duplicates answered, a gap NAKed, a retransmitted last fragment is stale", () => {
    const { dev, h } = device();
    const r1 = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, 40));
    expect([r1.type, getU16(r1.body, 2)]).toEqual([Msg.R_OK, 40]);
    expect(getU16(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, 40)).body, 2)).toBe(40); // duplicate
    const gap = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 80, 40));
    expect([gap.type, getU32(gap.body, 2)]).toEqual([Msg.R_NAK, 40]);
    const last = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 40, stmt.length - 40));
    expect(last.type).toBe(Msg.R_OK);
    expect([getU16(last.body, 2), last.body[4], last.body[5], getU53(last.body, 6)]).toEqual([stmt.length, 1, 0, 77]);
    // Retransmitted last fragment: the device has consumed the statement and asks from 0 ...
    const re = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 40, stmt.length - 40));
    expect([re.type, getU32(re.body, 2)]).toEqual([Msg.R_NAK, 0]);
    // ... and the whole statement again is a replay.
    const whole = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length));
    expect([whole.type, whole.body[2]]).toEqual([Msg.R_ERROR, Reason.STALE_STATEMENT]);
    // Bounds: larger than MAX_ROOT_STATEMENT, a fragment past the total, no header.
    const big = new Uint8Array(MAX_ROOT_STATEMENT + 1);
    expect(h.one(Msg.RETIRE_ROOT, retireFrame(big, 0, 10)).body[2]).toBe(Reason.TOO_LARGE);
    const bad = retireFrame(stmt, 0, 10);
    putU16(bad, 0, 5);
    expect(h.one(Msg.RETIRE_ROOT, bad).body[2]).toBe(Reason.MALFORMED);
    expect(h.one(Msg.RETIRE_ROOT, Uint8Array.of(1)).body[2]).toBe(Reason.MALFORMED);
    expect(dev.app.store.state.rootCounter).toBe(77);
  });

  it("refused with BAD_STATE while an unconfirmed test image runs", async () => {
    const { dev, h } = device();
    expect(h.install(await bundle(via1, 2, sampleImage(2000, 6), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    expect(dev.app.runMode).toBe(RunMode.TEST);
    const r = h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length));
    expect([r.type, r.body[2]]).toEqual([Msg.R_ERROR, Reason.BAD_STATE]);
    h.one(Msg.CONFIRM);
    expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
  });

  it("boot uses the persisted mask: the previous image, certified by root 0, is no fallback once slot 0 is retired", async () => {
    const run = async (retire: boolean): Promise<SimDevice> => {
      const dev = memDevice();
      const h = new InProcHost(dev);
      // Same release twice (same image and sequence, re-signed through the new root), so the
      // old one is a valid fallback.
      for (const [signer, seed] of [[via0, 1], [via1, 1]] as const) {
        expect(h.install(await bundle(signer, 2, sampleImage(2000, seed), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
        h.one(Msg.REBOOT);
        h.one(Msg.CONFIRM);
      }
      const active = dev.app.runningSlot;
      expect(dev.app.store.state.slots[1 - active].state).toBe(SlotState.OLD);
      if (retire) expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
      dev.flash.mem[dev.app.layout.slotAddr[active] + 100] ^= 0x40; // the active image rots
      dev.powerOn();
      expect(dev.app.bootReason[active]).toBe(Reason.CHUNK_HASH_MISMATCH);
      return dev;
    };
    const control = await run(false);
    expect(control.app.runMode).toBe(RunMode.NORMAL); // fell back to the root-0 image
    expect(control.app.bootReason[control.app.runningSlot]).toBe(Reason.OK);
    const retired = await run(true);
    expect(retired.app.runningSlot).toBe(-1); // recovery mode: root 0's image must not run
    expect(Array.from(retired.app.bootReason)).toContain(Reason.REVOKED_ROOT);
  });

  it("a format-1 state record (before root retirement existed) still loads: nothing retired, counter 0", () => {
    const { dev } = device();
    const copy = dev.app.layout.stateCopy[dev.app.store.current];
    const rec = dev.flash.mem.subarray(copy, copy + STATE_RECORD_LEN);
    const crcV1 = STATE_RECORD_LEN - 12 - 36; // format 1 had no statement counter, nor format 3's decoder resume state (36), before its CRC
    rec[8] = 1;
    const c = crc32(rec, 0, crcV1);
    for (let i = 0; i < 4; i++) rec[crcV1 + i] = (c >>> (8 * i)) & 0xff;
    dev.powerOn();
    expect(dev.app.store.current).toBeGreaterThanOrEqual(0);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    expect(dev.app.store.state.rootRetired).toBe(0);
    expect(dev.app.store.state.rootCounter).toBe(0);
  });

  it("power cut at every flash operation of the state write: old mask or new mask, never a broken state", () => {
    const probe = device();
    const before = probe.dev.flash.ops;
    expect(probe.h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
    const ops = probe.dev.flash.ops - before;
    expect(ops).toBeGreaterThanOrEqual(2); // erase + write of the other state copy
    const seen = { old: 0, new: 0 };
    for (const mode of ["partial", "complete"] as CutMode[]) {
      for (let k = 1; k <= ops; k++) {
        const { dev, h } = device();
        dev.flash.cutMode = mode;
        dev.flash.cutAt = dev.flash.ops + k;
        expect(() => h.send(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length))).toThrow(PowerCut);
        dev.flash.cutAt = 0;
        dev.powerOn();
        const st = dev.app.store.state;
        expect(dev.app.store.current).toBeGreaterThanOrEqual(0); // a valid record was found
        expect(dev.app.runMode).toBe(RunMode.NORMAL); // the image still boots, verified
        expect(dev.app.bootReason[dev.app.runningSlot]).toBe(Reason.OK);
        expect(st.slots[dev.app.runningSlot].state).toBe(SlotState.CONFIRMED);
        if (st.rootRetired === 0) {
          expect(st.rootCounter).toBe(0);
          seen.old++;
          // The statement was not applied: delivering it again works.
          expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).type).toBe(Msg.R_OK);
        } else {
          expect([st.rootRetired, st.rootCounter]).toEqual([1, 77]);
          seen.new++;
          expect(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).body[2]).toBe(Reason.STALE_STATEMENT);
        }
        expect([dev.app.store.state.rootRetired, dev.app.store.state.rootCounter]).toEqual([1, 77]);
      }
    }
    console.log(`retire-root state write: ${ops} flash operations, ${2 * ops} cuts: ${seen.old} kept the old state, ${seen.new} the new`);
    expect(seen.old + seen.new).toBe(2 * ops);
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
  });
});

describe("RETIRE_ROOT on a three-slot device: one leaked root cannot lock out the others", () => {
  it("root 0 alone is refused (THRESHOLD_NOT_MET, even with the largest counter); roots 1 and 2 retire it; a counter jump is TOO_LARGE", async () => {
    const dev = new SimDevice({ roots: rootsOf(keys, 3), vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
    dev.powerOn();
    const h = new InProcHost(dev);
    const send = (stmt: Uint8Array) => h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length));
    // The thief of root 0 has installed an image signed through it.
    expect(h.install(await bundle(via0, 1, sampleImage(2000, 7), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    h.one(Msg.CONFIRM);
    expect(dev.app.runMode).toBe(RunMode.NORMAL);
    for (const [slot, counter] of [[1, 100], [2, 100], [1, Number.MAX_SAFE_INTEGER]]) {
      const r = send(await statement(counter, { by: root0, slot }));
      expect([r.type, reasonName(r.body[2])]).toEqual([Msg.R_ERROR, "THRESHOLD_NOT_MET"]);
    }
    expect([dev.app.store.state.rootRetired, dev.app.store.state.rootCounter]).toEqual([0, 0]);

    // The owner: roots 1 and 2 together. First the device must run an image not signed through root 0.
    const owners = await statement(200, { by: [root1, root2], slot: 0 });
    expect(send(owners).body[2]).toBe(Reason.BAD_STATE);
    expect(h.install(await bundle(via1, 2, sampleImage(2000, 8), 256), GEOMETRY.maxData).type).toBe(Msg.R_OK);
    h.one(Msg.REBOOT);
    h.one(Msg.CONFIRM);
    const ok = send(owners);
    expect([ok.type, ok.body[4], getU53(ok.body, 6)]).toEqual([Msg.R_OK, 1, 200]);
    // Replayed: stale. Slot 0's key can no longer sign anything.
    expect(reasonName(send(owners).body[2])).toBe("STALE_STATEMENT");
    expect(reasonName(send(await statement(300, { by: root0, slot: 1 })).body[2])).toBe("REVOKED_ROOT");
    // Root 2 alone may now retire slot 1 (its only other live slot), but not jump the counter.
    expect(reasonName(send(await statement(200 + 2 ** 32 + 1, { by: root2, slot: 1 })).body[2])).toBe("TOO_LARGE");
    expect([dev.app.store.state.rootRetired, dev.app.store.state.rootCounter]).toEqual([1, 200]);
  });

  it("a provisioned retireThreshold of 2 keeps one remaining root from retiring the last other one", async () => {
    const dev = new SimDevice({ roots: rootsOf(keys, 3), rootRetired: 1, retireThreshold: 2, vendorId: VENDOR, classId: CLASS, ...GEOMETRY });
    dev.powerOn();
    const h = new InProcHost(dev);
    const stmt = await statement(100, { by: root2, slot: 1 });
    expect(reasonName(h.one(Msg.RETIRE_ROOT, retireFrame(stmt, 0, stmt.length)).body[2])).toBe("THRESHOLD_NOT_MET");
  });
});
