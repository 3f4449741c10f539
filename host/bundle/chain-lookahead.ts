// Chunk digests computed ahead of the in-order chain check (host/bundle/verify.ts, FastChain)
// on worker threads. Each chunk's hash covers only its own bytes (prefix, data and the next
// hash it carries, formats/SPEC.md §7), so the chunks of the next read block are hashed by
// the workers while this thread checks the current block in order: compares each chunk's
// digest with the hash its predecessor carries, takes the decisions, runs the per-chunk
// hooks (the image SHA-256 of `fwseal verify`). Decisions stay FastChain's; a digest is used
// only for the chunk, buffer and offset it was computed for (see PreDigests).
//
// Memory stays bounded: at most 1 + LOOKAHEAD_DEPTH blocks are held here (the one being
// checked and those being hashed), so a block source with LOOKAHEAD_BUFFERS buffers never
// reuses one still in use. Several blocks ahead: the workers keep hashing while this thread
// waits for the scheduler on a busy machine, and the other way round.
import { Limits } from "../../formats/device-safe/limits.js";
import { chunkDataLength } from "../../formats/device-safe/chunk-layout.js";
import type { ChunkDigestPool, DigestJob } from "./chunk-digest-pool.js";

/** A block of stream bytes: data is buf[off .. off+len), buf[0 .. off) writable scratch. */
export interface StreamBlock {
  buf: Buffer;
  off: number;
  len: number;
}

/** Digests of consecutive whole chunks of one block: chunk first+k lies at buf[firstOff + k*slot ..). */
export interface PreDigests {
  buf: Buffer;
  first: number;
  firstOff: number;
  slot: number;
  digests: string[];
}

/** Where the chunk stream lies: chunk 0 starts at stream offset `start`. */
export interface ChainGeometry {
  start: number;
  chunkCount: number;
  chunkSize: number;
  imageSize: number;
}

/** Blocks handed to the workers ahead of the one being checked. */
export const LOOKAHEAD_DEPTH = 3;

/**
 * Buffers a block source needs so that none is rewritten while ChainLookahead holds it: the
 * blocks held, the one being read ahead, one to spare.
 */
export const LOOKAHEAD_BUFFERS = LOOKAHEAD_DEPTH + 3;

/** Blocks from a source, each with the digests of (a share of) its whole chunks, one block ahead. */
export class ChainLookahead {
  private readonly pending: { block: StreamBlock; digests: Promise<PreDigests | null> }[] = [];
  private ended = false;

  /**
   * `pos`: the stream offset of the next block `source` yields. `share`: the fraction of each
   * block's whole chunks (its first ones) the workers hash; FastChain hashes the others.
   */
  constructor(
    private readonly source: AsyncIterator<StreamBlock>,
    private readonly pool: ChunkDigestPool,
    private readonly g: ChainGeometry,
    private pos: number,
    private readonly share: number
  ) {}

  /** The next block and its digests (null at the end of the source). */
  async next(): Promise<{ block: StreamBlock; pre: PreDigests | null } | null> {
    // The blocks after the one returned are hashed while it is checked.
    while (!this.ended && this.pending.length < 1 + LOOKAHEAD_DEPTH) {
      const p = await this.pull();
      if (p === null) this.ended = true;
      else this.pending.push(p);
    }
    const cur = this.pending.shift();
    if (cur === undefined) return null;
    return { block: cur.block, pre: await cur.digests };
  }

  /** Stops pulling: the source is released, pending digests are dropped. */
  async return(): Promise<void> {
    this.pending.length = 0;
    this.ended = true;
    await this.source.return?.(undefined);
  }

  private async pull(): Promise<{ block: StreamBlock; digests: Promise<PreDigests | null> } | null> {
    const r = await this.source.next();
    if (r.done) return null;
    const block = r.value;
    const at = this.pos;
    this.pos += block.len;
    const digests = this.digestsOf(block, at);
    digests.catch(() => undefined); // awaited by next(); an early stop must not leave it unhandled
    return { block, digests };
  }

  /** Starts the workers on the share of whole chunks of `block` (at stream offset `at`). */
  private async digestsOf(block: StreamBlock, at: number): Promise<PreDigests | null> {
    const { start, chunkCount, chunkSize, imageSize } = this.g;
    const slot = chunkSize + Limits.HASH_LEN;
    let i = Math.max(0, Math.ceil((at - start) / slot));
    const jobs: DigestJob[] = [];
    const end = at + block.len;
    for (; i < chunkCount; i++) {
      const s = start + i * slot;
      const need = chunkDataLength(imageSize, chunkSize, chunkCount, i) + Limits.HASH_LEN;
      if (s + need > end) break;
      jobs.push({ index: i, off: block.off + (s - at), len: need });
    }
    const n = Math.ceil(jobs.length * this.share);
    if (n === 0) return null;
    const mine = jobs.slice(0, n);
    const digests = await this.pool.digestOnWorkers(block.buf, mine);
    return { buf: block.buf, first: mine[0].index, firstOff: mine[0].off, slot, digests };
  }
}
