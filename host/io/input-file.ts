// Input files named on the command line or in the library API. Every failure (missing,
// unreadable, a directory) becomes one FwsealError with exit code 3 via inputError().
import * as fsp from "node:fs/promises";
import type { Stats } from "node:fs";
import { inputError } from "../errors.js";

export interface InputFile {
  fh: fsp.FileHandle;
  stat: Stats;
}

/**
 * Open `path` for reading and stat it. A directory is refused (EISDIR); with
 * `regularFile`, so is anything else that is not a regular file (a FIFO, a device).
 * The caller owns `fh` and closes it; on a refusal it is already closed.
 */
export async function openInput(path: string, opts: { regularFile?: boolean } = {}): Promise<InputFile> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, "r");
  } catch (e) {
    throw inputError(path, e);
  }
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw Object.assign(new Error(), { code: "EISDIR" });
    if (opts.regularFile && !stat.isFile()) throw Object.assign(new Error(), { code: "EINVAL" });
    return { fh, stat };
  } catch (e) {
    await fh.close();
    throw inputError(path, e);
  }
}

/** The whole of a (small) input file: a certificate, a statement, a draft signature. */
export async function readInput(path: string): Promise<Uint8Array> {
  try {
    const st = await fsp.stat(path);
    if (st.isDirectory()) throw Object.assign(new Error(), { code: "EISDIR" });
    return new Uint8Array(await fsp.readFile(path));
  } catch (e) {
    throw inputError(path, e);
  }
}
