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

/**
 * SHA-256 of the image data in a chunk stream fed block by block (from the first chunk on,
 * blocks of any size), skipping each chunk's 32-byte link; bytes after the image are ignored.
 */
export class ImageDigest {
  private readonly h = createHash("sha256");
  private left: number; // image bytes still to hash
  private inChunk = 0; // image bytes of the current chunk already hashed
  private skip = 0; // link bytes still to skip

  constructor(private readonly g: Pick<ChunkGeometry, "chunkSize" | "imageSize">) {
    this.left = g.imageSize;
  }

  /** True once every image byte has been hashed. */
  get done(): boolean {
    return this.left === 0 && this.skip === 0;
  }

  /** Feed the next bytes of the chunk stream. */
  update(block: Uint8Array): void {
    let off = 0;
    while (off < block.length && (this.left > 0 || this.skip > 0)) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, block.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      const n = Math.min(this.g.chunkSize - this.inChunk, this.left, block.length - off);
      this.h.update(block.subarray(off, off + n));
      off += n;
      this.left -= n;
      this.inChunk += n;
      if (this.inChunk === this.g.chunkSize || this.left === 0) {
        this.inChunk = 0;
        this.skip = 32;
      }
    }
  }

  /** The digest (hex); call once. */
  hex(): string {
    return this.h.digest("hex");
  }
}

/** SHA-256 (hex) of the image data in the bundle file at `path`, skipping each chunk's 32-byte link. */
export async function imageSha256OfBundle(path: string, g: ChunkGeometry): Promise<string> {
  const d = new ImageDigest(g);
  for await (const block of createReadStream(path, { start: g.envelopeSize, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    d.update(block);
    if (d.done) break;
  }
  return d.hex();
}
