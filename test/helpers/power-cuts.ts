// Power cuts at every flash operation of an update, on the simulated device: the update is
// run once to count its flash operations, then once per operation and cut mode (half-way
// through the operation, and right after it), restarting each time from the same flash.
import { expect } from "vitest";
import { PowerCut, type CutMode } from "../../device-sim/sim/sim-flash.js";
import type { SimDevice } from "../../device-sim/sim/sim-device.js";
import { InProcHost } from "./device.js";

/** What an exhaustive run did: flash operations of one update, cuts made, cuts counted as resumed. */
export interface CutRun {
  ops: number;
  runs: number;
  resumed: number;
}

/**
 * For each flash operation of `update` on a device loaded with `snapshot`, and each cut mode:
 * cut the power there (the operation must be reached), power on again, then `afterCut` checks
 * the device and finishes the update; it returns whether this cut counted as resumed.
 */
export function cutAtEveryFlashOp(newDevice: () => SimDevice, snapshot: Uint8Array, update: (h: InProcHost) => void, afterCut: (h: InProcHost) => boolean): CutRun {
  const probe = newDevice();
  probe.flash.mem.set(snapshot);
  probe.powerOn();
  const before = probe.flash.ops;
  update(new InProcHost(probe));
  const ops = probe.flash.ops - before;
  let runs = 0;
  let resumed = 0;
  for (const mode of ["partial", "complete"] as CutMode[]) {
    for (let k = 1; k <= ops; k++) {
      const dev = newDevice();
      dev.flash.mem.set(snapshot);
      dev.powerOn();
      const h = new InProcHost(dev);
      dev.flash.cutMode = mode;
      dev.flash.cutAt = dev.flash.ops + k;
      let cut = false;
      try {
        update(h);
      } catch (e) {
        if (!(e instanceof PowerCut)) throw e;
        cut = true;
      }
      expect(cut, `op ${k} (${mode}) was not reached`).toBe(true);
      dev.flash.cutAt = 0;
      dev.powerOn(); // power returns: fresh RAM, boot from flash
      if (afterCut(h)) resumed++;
      runs++;
    }
  }
  return { ops, runs, resumed };
}
