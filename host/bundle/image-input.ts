// The image file pack reads: raw binary as given, or Intel HEX converted to its binary image
// in a private temporary file (removed by dispose(), also on failure) so that pack's
// positional, back-to-front reads work the same on both.
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { inputError } from "../errors.js";
import { openInput } from "../io/input-file.js";
import { looksLikeIntelHex, parseIntelHex, type HexGaps } from "../io/intel-hex.js";

/** How pack reads its image: "auto" (Intel HEX when the file starts with a valid record, else binary), "binary" or "ihex". */
export type ImageFormat = "auto" | "binary" | "ihex";

/** The image as pack reads it: a binary file, and what an Intel HEX source said. */
export interface ImageInput {
  /** A binary image file (the input itself, or the temporary conversion). */
  path: string;
  format: "binary" | "ihex";
  /** Intel HEX: the lowest address of its data (manifest key 17). */
  loadAddress?: number;
  /** Intel HEX: bytes of gaps filled with 0xFF. */
  gapBytes?: number;
  /** Removes the temporary conversion, if any. */
  dispose(): Promise<void>;
}

async function startsLikeHex(file: string): Promise<boolean> {
  const { fh } = await openInput(file, { regularFile: true });
  try {
    const head = Buffer.alloc(600);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return looksLikeIntelHex(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** Opens `file` as `format` (see ImageFormat); Intel HEX faults throw FwsealError naming the line. */
export async function openImageInput(file: string, format: ImageFormat = "auto", gaps: HexGaps = "fill"): Promise<ImageInput> {
  const hex = format === "ihex" || (format === "auto" && (await startsLikeHex(file)));
  if (!hex) return { path: file, format: "binary", dispose: async () => undefined };
  let text: string;
  try {
    text = await fsp.readFile(file, "latin1");
  } catch (e) {
    throw inputError(file, e);
  }
  const h = parseIntelHex(text, file, gaps);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "fwseal-ihex-"));
  const bin = path.join(dir, "image.bin");
  const dispose = async (): Promise<void> => fsp.rm(dir, { recursive: true, force: true });
  try {
    await fsp.writeFile(bin, h.image, { mode: 0o600 });
  } catch (e) {
    await dispose();
    throw e;
  }
  return { path: bin, format: "ihex", loadAddress: h.loadAddress, gapBytes: h.gapBytes, dispose };
}
