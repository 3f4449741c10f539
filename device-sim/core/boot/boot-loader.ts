// The boot loader: selects, verifies and "runs" an image at every power-on, with MCUboot-style
// test / confirm / revert (formats/PROTOCOL.md §6):
//  1. an unconfirmed image that already had its test boot is reverted;
//  2. a freshly installed (PENDING) image is verified and run once in test mode;
//  3. else the confirmed image is verified and run;
//  4. else the previous (OLD) image, if intact and not below the rollback floor;
//  5. else recovery mode (only the update protocol runs).
// Nothing runs without passing the boot check (boot-verifier.ts) in the same boot, and every
// state change is one atomic state-record write (flash-layout.ts).
// Constrained TS: no exceptions, buffers allocated at creation.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { Limits } from "../../../formats/device-safe/limits.js";
import { RunMode } from "../../../formats/device-safe/protocol.js";
import { SlotState, clearSlot } from "./flash-layout.js";
import type { FlashHal, FlashLayout, StateStore } from "./flash-layout.js";
import type { VerifierConfig } from "../verify/bundle-verifier.js";
import type { BootVerifier } from "../verify/boot-verifier.js";

/** Flash and trusted time. The time serves installs only: the boot check never reads it
 *  (SPEC §8.5: certificate validity windows are checked at install, not at boot). */
export interface BootHal extends FlashHal {
  nowSeconds(): number; // trusted time in seconds since 1970, or -1 if none
}

/** What runs after boot; reported in INFO. */
export interface RunStatus {
  runningSlot: number; // -1 = none (recovery mode)
  runMode: number; // RunMode
  bootReason: Int32Array; // per slot: result of its last boot check, -1 = not checked
  reverted: number; // 1 when the last boot reverted an unconfirmed test image
  runningHead: Uint8Array; // 32: chain head of the running image (valid while runningSlot >= 0)
}

/** Boot decisions over the state record; `status` is updated in place. */
export interface BootLoader {
  // Selects and verifies the image to run (steps 1-5 above). The state must be loaded.
  select(): void;
  // Boot check of slot s as stored in flash; records the result in status.bootReason[s].
  checkSlot(s: number): number;
  // Would the running image still pass its boot check with these root slots retired? Leaves
  // status.bootReason as it was.
  runningPassesWith(retiredMask: number): boolean;
  // CONFIRM: makes a test image permanent (anti-rollback and key epoch advance now). Returns
  // the running image's sequence, or -1 when no verified image runs.
  confirm(): number;
}

/** Creates the boot loader; bcfg is the boot verifier's configuration, updated in place. */
export function createBootLoader(hal: FlashHal, layout: FlashLayout, store: StateStore, status: RunStatus, bootVerifier: BootVerifier, bcfg: VerifierConfig): BootLoader {
  const st = store.state;
  // The stored envelope is read straight into the boot verifier's envelope buffer.
  const envBuf = bootVerifier.envelopeBuffer();
  let bootSlot = 0; // slot read by readImage during a boot check

  function readImage(imageOffset: number, dst: Uint8Array, dstOff: number, len: number): void {
    hal.flashRead(layout.slotAddr[bootSlot] + imageOffset, dst, dstOff, len);
  }

  // Full verification of a slot as stored in flash: envelope (signature, trust, identity,
  // key epoch) and the chunk chain over every image byte (SPEC §7, back to front). Not the
  // certificates' validity windows (SPEC §8.5): the boot verifier skips them.
  function checkSlot(s: number): number {
    const si = st.slots[s];
    let r = Reason.MALFORMED;
    if (si.envLen > 0 && si.envLen <= Limits.MAX_ENVELOPE && si.imageSize <= layout.slotSize) {
      hal.flashRead(layout.envAddr[s], envBuf, 0, si.envLen);
      bcfg.minEpoch = st.minEpoch;
      bcfg.now = -1;
      bootSlot = s;
      r = bootVerifier.check(envBuf, si.envLen, readImage);
    }
    status.bootReason[s] = r;
    return r;
  }

  // Runs slot s, whose checkSlot() just passed: the boot verifier holds its chain head.
  function run(s: number, mode: number): void {
    status.runningSlot = s;
    status.runMode = mode;
    for (let k = 0; k < Limits.HASH_LEN; k++) status.runningHead[k] = bootVerifier.chainHead[k];
  }

  function select(): void {
    status.runningSlot = -1;
    status.runMode = RunMode.RECOVERY;
    status.bootReason[0] = -1;
    status.bootReason[1] = -1;
    status.reverted = 0;
    // 1. An unconfirmed image that already had its test boot: revert (MCUboot semantics).
    for (let s = 0; s < 2; s++) {
      if (st.slots[s].state === SlotState.TESTING) {
        clearSlot(st.slots[s]);
        store.save();
        status.reverted = 1;
      }
    }
    // 2. A freshly installed image: verify it, then run it once in test mode.
    for (let s = 0; s < 2; s++) {
      const si = st.slots[s];
      if (si.state === SlotState.PENDING) {
        if (si.sequence >= st.minSequence && checkSlot(s) === Reason.OK) {
          si.state = SlotState.TESTING;
          store.save();
          run(s, RunMode.TEST);
          return;
        }
        clearSlot(si);
        store.save();
      }
    }
    // 3. The confirmed image.
    const a = st.activeSlot;
    if (a >= 0 && st.slots[a].state === SlotState.CONFIRMED) {
      if (checkSlot(a) === Reason.OK) {
        run(a, RunMode.NORMAL);
        return;
      }
    }
    // 4. Fallback: the previous image, if still intact and not below the rollback floor.
    const b = a >= 0 ? 1 - a : -1;
    for (let s = 0; s < 2; s++) {
      const si = st.slots[s];
      if ((s === b || a < 0) && si.state === SlotState.OLD && si.sequence >= st.minSequence) {
        if (checkSlot(s) === Reason.OK) {
          si.state = SlotState.CONFIRMED;
          if (a >= 0) clearSlot(st.slots[a]);
          st.activeSlot = s;
          store.save();
          run(s, RunMode.NORMAL);
          return;
        }
      }
    }
    // 5. Nothing verifies: stay in recovery mode (the update protocol still works).
  }

  function runningPassesWith(retiredMask: number): boolean {
    const s = status.runningSlot;
    const saved = status.bootReason[s];
    const was = bcfg.rootRetired;
    bcfg.rootRetired = retiredMask;
    const r = checkSlot(s);
    bcfg.rootRetired = was;
    status.bootReason[s] = saved;
    return r === Reason.OK;
  }

  function confirm(): number {
    const s = status.runningSlot;
    if (s < 0) return -1;
    const si = st.slots[s];
    if (status.runMode === RunMode.TEST) {
      const a = st.activeSlot;
      if (a >= 0 && a !== s && st.slots[a].state === SlotState.CONFIRMED) st.slots[a].state = SlotState.OLD;
      si.state = SlotState.CONFIRMED;
      st.activeSlot = s;
      if (si.sequence > st.minSequence) st.minSequence = si.sequence;
      if (si.keyEpochFloor > st.minEpoch) st.minEpoch = si.keyEpochFloor;
      store.save();
      status.runMode = RunMode.NORMAL;
    }
    return si.sequence;
  }

  return { select: select, checkSlot: checkSlot, runningPassesWith: runningPassesWith, confirm: confirm };
}
