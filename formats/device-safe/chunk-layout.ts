// Chunk layout of a bundle (formats/SPEC.md §4 consistency rules, §7 hash chain), defined
// once for the host and the device. Constrained TS: no allocation, no exceptions.
//
//   H_i = SHA-256( CHUNK_DOMAIN || be32(i) || data_i || next_i )
//
// The first Limits.CHUNK_PREFIX_LEN bytes of that input are the chunk prefix written here.
import { Reason } from "./reasons.js";
import { Limits, CHUNK_DOMAIN } from "./limits.js";

// Offset of be32(i) inside the prefix: right after the domain string.
const INDEX_OFF = CHUNK_DOMAIN.length;

/** Writes the chunk-hash prefix CHUNK_DOMAIN || be32(index) at buf[off .. off + CHUNK_PREFIX_LEN). */
export function writeChunkPrefix(buf: Uint8Array, off: number, index: number): void {
  for (let i = 0; i < INDEX_OFF; i++) buf[off + i] = CHUNK_DOMAIN[i];
  const o = off + INDEX_OFF;
  buf[o] = (index >>> 24) & 255;
  buf[o + 1] = (index >>> 16) & 255;
  buf[o + 2] = (index >>> 8) & 255;
  buf[o + 3] = index & 255;
}

/**
 * Chunk size check (SPEC §8 step 3, geometry): above MAX_CHUNK_SIZE or above the verifier's
 * chunk buffer `maxChunk` is TOO_LARGE; below MIN_CHUNK_SIZE or not a power of two is MALFORMED.
 */
export function checkChunkSize(chunkSize: number, maxChunk: number): number {
  const cs = chunkSize;
  if (cs > Limits.MAX_CHUNK_SIZE || cs > maxChunk) return Reason.TOO_LARGE;
  if (cs < Limits.MIN_CHUNK_SIZE || (cs & (cs - 1)) !== 0) return Reason.MALFORMED;
  return Reason.OK;
}

/**
 * Chunk count check for a valid chunk size: above MAX_CHUNK_COUNT is TOO_LARGE; anything but
 * ceil(imageSize / chunkSize) (at least 1) is MALFORMED. Exact in doubles: chunkSize is a
 * power of two.
 */
export function checkChunkCount(imageSize: number, chunkSize: number, chunkCount: number): number {
  const cc = chunkCount;
  if (cc > Limits.MAX_CHUNK_COUNT) return Reason.TOO_LARGE;
  if (cc < 1 || (cc - 1) * chunkSize >= imageSize || cc * chunkSize < imageSize) return Reason.MALFORMED;
  return Reason.OK;
}

/** Both geometry checks in SPEC order: chunk size first, then chunk count. */
export function checkChunkGeometry(imageSize: number, chunkSize: number, chunkCount: number, maxChunk: number): number {
  const rc = checkChunkSize(chunkSize, maxChunk);
  if (rc !== Reason.OK) return rc;
  return checkChunkCount(imageSize, chunkSize, chunkCount);
}

/** ceil(imageSize / chunkSize): the chunk count a manifest must carry. */
export function chunkCountFor(imageSize: number, chunkSize: number): number {
  return Math.ceil(imageSize / chunkSize);
}

/** Data length of chunk i (every chunk is chunkSize bytes except possibly the last). */
export function chunkDataLength(imageSize: number, chunkSize: number, chunkCount: number, i: number): number {
  if (i === chunkCount - 1) return imageSize - (chunkCount - 1) * chunkSize;
  return chunkSize;
}
