// What SHA-256 and SHA-512 share (both are Merkle–Damgård hashes): the partial block, the
// message length and the final padding. Each hash supplies its block compression, bound once
// to its own state, so this file never needs to know the word size or the round function.
// Constrained TS: buffers allocated in the constructor, nothing allocated per call.

/** Compresses nblocks whole blocks of buf starting at pos into the hash state. */
export type CompressBlocks = (buf: Uint8Array, pos: number, nblocks: number) => void;

const TWO32 = 4294967296;

/** Block buffering and padding for a hash with `size`-byte blocks and a `lengthBytes` length field. */
export class MdBuffer {
  block: Uint8Array;
  size: number;
  lengthBytes: number;
  blockLen: number;
  // Total message length in bytes as two numbers, so inputs above 2^32 bytes still work.
  lenLo: number;
  lenHi: number;
  compress: CompressBlocks;

  constructor(size: number, lengthBytes: number, compress: CompressBlocks) {
    this.block = new Uint8Array(size);
    this.size = size;
    this.lengthBytes = lengthBytes;
    this.blockLen = 0;
    this.lenLo = 0;
    this.lenHi = 0;
    this.compress = compress;
  }

  /** Forgets all input (the caller resets its own chaining state). */
  reset(): void {
    this.blockLen = 0;
    this.lenLo = 0;
    this.lenHi = 0;
  }

  /** Feeds buf[off .. off+len): whole blocks straight from buf, the rest through the buffer. */
  update(buf: Uint8Array, off: number, len: number): void {
    const size = this.size;
    let lo = this.lenLo + len;
    if (lo >= TWO32) {
      const c = (lo / TWO32) | 0;
      this.lenHi += c;
      lo -= c * TWO32;
    }
    this.lenLo = lo;
    const block = this.block;
    let bl = this.blockLen;
    if (bl > 0) {
      let take = size - bl;
      if (take > len) take = len;
      block.set(buf.subarray(off, off + take), bl);
      bl += take; off += take; len -= take;
      if (bl < size) { this.blockLen = bl; return; }
      this.compress(block, 0, 1);
    }
    const n = (len / size) | 0;
    if (n > 0) {
      this.compress(buf, off, n);
      off += n * size; len -= n * size;
    }
    if (len > 0) block.set(buf.subarray(off, off + len), 0);
    this.blockLen = len;
  }

  /**
   * Appends the padding (0x80, zeros, the message length in bits, big-endian, in the last
   * lengthBytes of a block; only its low 64 bits can be non-zero) and compresses the last
   * block(s). reset() before reuse.
   */
  finish(): void {
    const size = this.size;
    const block = this.block;
    let bl = this.blockLen;
    block[bl++] = 0x80;
    if (bl > size - this.lengthBytes) {
      while (bl < size) block[bl++] = 0;
      this.compress(block, 0, 1);
      bl = 0;
    }
    const at = size - 8;
    while (bl < at) block[bl++] = 0;
    const lo = this.lenLo;
    const hiBits = this.lenHi * 8 + ((lo / 536870912) | 0); // lo >> 29 without 32-bit overflow
    const loBits = (lo * 8) % TWO32;
    block[at] = (hiBits >>> 24) & 255; block[at + 1] = (hiBits >>> 16) & 255;
    block[at + 2] = (hiBits >>> 8) & 255; block[at + 3] = hiBits & 255;
    block[at + 4] = (loBits >>> 24) & 255; block[at + 5] = (loBits >>> 16) & 255;
    block[at + 6] = (loBits >>> 8) & 255; block[at + 7] = loBits & 255;
    this.compress(block, 0, 1);
  }
}

/** Writes the first `words` 32-bit words of h big-endian to out[outOff ..). */
export function writeWordsBE(h: Int32Array, words: number, out: Uint8Array, outOff: number): void {
  for (let i = 0; i < words; i++) {
    const v = h[i];
    out[outOff + 4 * i] = (v >>> 24) & 255;
    out[outOff + 4 * i + 1] = (v >>> 16) & 255;
    out[outOff + 4 * i + 2] = (v >>> 8) & 255;
    out[outOff + 4 * i + 3] = v & 255;
  }
}
