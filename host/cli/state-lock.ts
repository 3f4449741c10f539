// One simulator per state directory: two processes writing the same flash file would
// corrupt it. The lock is a file created exclusively, holding the owner's process ID; a lock
// left by a process that no longer runs is taken over.
import * as fs from "node:fs";
import * as path from "node:path";
import { FwsealError, outputError } from "../errors.js";

/** The lock file's name inside a state directory. */
export const STATE_LOCK = "device-sim.lock";

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Lock `dir` for this process; returns the function that releases it. Refuses a directory another live process holds (exit 5). */
export function lockStateDir(dir: string): () => void {
  const file = path.join(dir, STATE_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw outputError(file, e);
    }
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    if (Number.isSafeInteger(pid) && pid > 0 && running(pid)) {
      throw new FwsealError("OUTPUT_EXISTS", `--state ${dir}: in use by another simulator (process ${pid}); stop it first or give another --state`);
    }
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new FwsealError("OUTPUT_EXISTS", `--state ${dir}: could not take the lock ${file}`);
}
