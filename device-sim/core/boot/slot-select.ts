// Which slot an install writes: never the one running (formats/PROTOCOL.md §6), and an
// interrupted install is found again by its INSTALLING mark in the state record.
// Constrained TS.

import { SlotState } from "./flash-layout.js";
import type { DeviceState } from "./flash-layout.js";

/** The slot holding an interrupted (or ongoing) install, or -1. */
export function installingSlot(st: DeviceState): number {
  if (st.slots[0].state === SlotState.INSTALLING) return 0;
  if (st.slots[1].state === SlotState.INSTALLING) return 1;
  return -1;
}

/** The slot a new install goes to: the one not running; without a running image, the
 *  interrupted install's slot, else the one not confirmed, else slot 0. */
export function installTarget(st: DeviceState, runningSlot: number): number {
  const ins = installingSlot(st);
  if (runningSlot >= 0) return 1 - runningSlot;
  if (ins >= 0) return ins;
  if (st.activeSlot >= 0) return 1 - st.activeSlot;
  return 0;
}

/** The bundle stream offset where the install in slot ins continues: the stored envelope,
 *  then (chunk data + 32-byte link) per chunk before the resume point. */
export function resumeStreamOffset(st: DeviceState, ins: number): number {
  const si = st.slots[ins];
  return si.envLen + st.nextChunk * (si.chunkSize + 32);
}
