// The SHA-256 of the image a bundle carries, read from its chunk stream without a verdict
// (inspect: what the bundle claims; verify computes it over authenticated chunks instead).
// Each chunk on the wire is data_i followed by the 32-byte next_i (formats/SPEC.md §7).
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";

/** Where the chunk stream starts and how it is cut: from the (unverified) manifest. */
export interface ChunkGeometry {
  envelopeSize: number;
  chunkSize: number;
  imageSize: number;
}

/** SHA-256 (hex) of the image data in the bundle file at `path`, skipping each chunk's 32-byte link. */
export async function imageSha256OfBundle(path: string, g: ChunkGeometry): Promise<string> {
  const h = createHash("sha256");
  let left = g.imageSize; // image bytes still to hash
  let inChunk = 0; // image bytes of the current chunk already hashed
  let skip = 0; // link bytes still to skip
  for await (const block of createReadStream(path, { start: g.envelopeSize, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < block.length && (left > 0 || skip > 0)) {
      if (skip > 0) {
        const n = Math.min(skip, block.length - off);
        skip -= n;
        off += n;
        continue;
      }
      const n = Math.min(g.chunkSize - inChunk, left, block.length - off);
      h.update(block.subarray(off, off + n));
      off += n;
      left -= n;
      inChunk += n;
      if (inChunk === g.chunkSize || left === 0) {
        inChunk = 0;
        skip = 32;
      }
    }
    if (left === 0 && skip === 0) break;
  }
  return h.digest("hex");
}
