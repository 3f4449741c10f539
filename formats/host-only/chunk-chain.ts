// The hash chain over chunks (formats/SPEC.md §7), host side.
//   H_i = SHA-256(CHUNK_DOMAIN || be32(i) || data_i || next_i),  next_{n-1} = 0^32
import { Limits } from "../device-safe/limits.js";
import { Reason } from "../device-safe/reasons.js";
import { checkChunkCount, checkChunkSize, chunkCountFor, chunkDataLength, writeChunkPrefix } from "../device-safe/chunk-layout.js";
import { defaultSha256, Sha256Fn } from "./keyid.js";

export const ZERO_HASH = new Uint8Array(Limits.HASH_LEN);

export interface ChunkGeometry {
  chunkSize: number;
  chunkCount: number;
  /** Length of the last chunk (1..chunkSize). */
  lastLen: number;
}

export function chunkGeometry(imageSize: number, chunkSize: number): ChunkGeometry {
  if (!Number.isSafeInteger(imageSize) || imageSize < 1) throw new Error("image must be at least 1 byte");
  if (checkChunkSize(chunkSize, Limits.MAX_CHUNK_SIZE) !== Reason.OK)
    throw new Error(`chunk size must be a power of two in ${Limits.MIN_CHUNK_SIZE}..${Limits.MAX_CHUNK_SIZE}`);
  const chunkCount = chunkCountFor(imageSize, chunkSize);
  if (checkChunkCount(imageSize, chunkSize, chunkCount) !== Reason.OK) throw new Error("image too large for this chunk size (more than 2^24 chunks)");
  return { chunkSize, chunkCount, lastLen: chunkDataLength(imageSize, chunkSize, chunkCount, chunkCount - 1) };
}

/** Byte length of chunk i's data. */
export function chunkDataLen(g: ChunkGeometry, i: number): number {
  return i === g.chunkCount - 1 ? g.lastLen : g.chunkSize;
}

/** The exact SHA-256 input for chunk i: domain || be32(i) || data || next. */
export function chunkHashInput(index: number, data: Uint8Array, next: Uint8Array): Uint8Array {
  if (next.length !== Limits.HASH_LEN) throw new Error("next hash must be 32 bytes");
  const p = Limits.CHUNK_PREFIX_LEN;
  const b = new Uint8Array(p + data.length + Limits.HASH_LEN);
  writeChunkPrefix(b, 0, index);
  b.set(data, p);
  b.set(next, p + data.length);
  return b;
}

/** H_i for chunk `index` with `data` and the following hash `next` (zeros for the last). */
export function chunkHash(index: number, data: Uint8Array, next: Uint8Array, sha256: Sha256Fn = defaultSha256): Uint8Array {
  return sha256(chunkHashInput(index, data, next));
}

/** Reads `len` image bytes at `offset` into dst[dstOff..]. May be sync or async. */
export type ImageReader = (offset: number, dst: Uint8Array, dstOff: number, len: number) => void | Promise<void>;

/**
 * Computes H_0..H_{n-1} back to front, reading one chunk at a time (memory: one chunk buffer
 * plus 32 bytes per chunk). Returns the hashes concatenated (hash i at i*32); H_0 = chain head.
 */
export async function computeChain(read: ImageReader, g: ChunkGeometry, sha256: Sha256Fn = defaultSha256): Promise<Uint8Array> {
  const n = g.chunkCount;
  const hashes = new Uint8Array(n * Limits.HASH_LEN);
  const p = Limits.CHUNK_PREFIX_LEN;
  const buf = new Uint8Array(p + g.chunkSize + Limits.HASH_LEN);
  let next: Uint8Array = ZERO_HASH;
  for (let i = n - 1; i >= 0; i--) {
    const len = chunkDataLen(g, i);
    await read(i * g.chunkSize, buf, p, len);
    writeChunkPrefix(buf, 0, i);
    buf.set(next, p + len);
    const h = sha256(buf.subarray(0, p + len + Limits.HASH_LEN));
    hashes.set(h, i * Limits.HASH_LEN);
    next = hashes.subarray(i * Limits.HASH_LEN, (i + 1) * Limits.HASH_LEN);
  }
  return hashes;
}
