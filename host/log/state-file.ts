// The JSON state files of the log's tools (a witness's last cosigned checkpoints, a monitor's
// last seen tree) and log.json: read and replaced with errors that name the file, in the
// classes of README "Exit codes" (3 unreadable, 5 not writable).
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { FwsealError, inputError, outputError } from "../errors.js";

/** The parsed JSON of `file` (`what` names the kind of file when it is not JSON). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw inputError(file, e);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FwsealError("INPUT_UNREADABLE", `${file}: not ${what} (not JSON)`);
  }
}

/** Replace `file` with `text` through `<file>.tmp` and a rename; a failure leaves the old file and no temporary. */
export function replaceFile(file: string, text: string): void {
  try {
    writeFileSync(file + ".tmp", text);
    renameSync(file + ".tmp", file);
  } catch (e) {
    try {
      unlinkSync(file + ".tmp");
    } catch {
      // never created
    }
    throw outputError(file, e);
  }
}
