// Raw deflate (RFC 1951) decoder for ONE wire chunk of a compressed payload (SPEC §15,
// codec 1), in constrained TS. Written from the RFC: stored, fixed-Huffman and
// dynamic-Huffman blocks.
//
// Each call decodes one complete deflate stream: history starts empty, back-references may
// reach only bytes of the same call and at most 2^windowBits back, the stream must end with
// a BFINAL block, and the bytes after the block's last bit up to the end of the chunk's
// data must be zero. Output goes through a ring of 2^maxWindowBits bytes that is handed to
// a ByteWriter each time it fills and once at the end. Every defect is Reason.BAD_PAYLOAD;
// nothing throws.
//
// Bits: the stream is read least significant bit first into a bit buffer (`bb`, `bc` bits).
// Refills add two bytes when fewer than 16 bits are buffered; bytes past the end of the data
// read as zero, and `pos` counts them, so a decode that used more bits than the chunk holds
// is caught by (pos - end) * 8 > bc before any output leaves the ring, and at the end. This
// keeps the symbol loop free of per-bit end checks. Block headers go through the bits()
// reader on the instance; the symbol loop (decodeCodes, copyMatch) keeps the bit state in
// locals and refills inline, because a call per refill would double its cost on the
// interpreters.

import { Reason } from "../../../formats/device-safe/reasons.js";
import { HuffmanTable, buildHuffmanTable, decodeLongCode, huffmanTableBytes, MAX_CODE_BITS } from "./huffman.js";

/** Receives decoded bytes in order; returns Reason.OK or the reason to stop with. */
export interface ByteWriter {
  write(buf: Uint8Array, off: number, len: number): number;
}

// Length symbols 257..285: base length and extra bits (RFC 1951 §3.2.5).
const LENGTH_BASE = new Uint16Array([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258
]);
const LENGTH_EXTRA = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
// Distance symbols 0..29: base distance and extra bits.
const DIST_BASE = new Uint16Array([
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577
]);
const DIST_EXTRA = new Uint8Array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
// Order in which a dynamic block sends the code lengths of the code-length code.
const CLEN_ORDER = new Uint8Array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/** Bytes of the module's constant tables (shared by every decoder). */
export const INFLATE_CONST_BYTES = 29 * 2 + 29 + 30 * 2 + 30 + 19;

// Literal/length code: 288 symbols, 8-bit first-level table. Distance code (also holds the
// code-length code of a dynamic header): 32 symbols, 6-bit first-level table.
const LIT_SYMBOLS = 288;
const LIT_FAST_BITS = 8;
const DIST_SYMBOLS = 32;
const DIST_FAST_BITS = 6;
// Code lengths of one dynamic header: up to 286 literal/length + 30 distance codes, read as
// one sequence (a repeat may run from one into the other); 320 also holds the fixed code.
const LENS_LEN = 320;

/** Bytes of typed arrays one Inflater holds besides its ring. */
export const INFLATE_TABLE_BYTES =
  huffmanTableBytes(LIT_SYMBOLS, LIT_FAST_BITS) + huffmanTableBytes(DIST_SYMBOLS, DIST_FAST_BITS) + LENS_LEN + 2 * (MAX_CODE_BITS + 1);

/** True when the code has exactly one code, of length 1. */
function singleOneBitCode(t: HuffmanTable): boolean {
  const count = t.count;
  if (count[1] !== 1) return false;
  for (let L = 2; L <= MAX_CODE_BITS; L++) if (count[L] !== 0) return false;
  return true;
}

/** Raw deflate decoder; allocates its ring (2^maxWindowBits bytes) and tables once. */
export class Inflater {
  ring: Uint8Array;
  lens: Uint8Array;
  scratch: Uint16Array;
  lit: HuffmanTable;
  dist: HuffmanTable;
  /** True while lit/dist hold the fixed code (rebuilt only after a dynamic block). */
  fixedLoaded: boolean;
  // Bit reader over the current chunk: data[pos .. end), bit buffer bb of bc bits.
  data: Uint8Array;
  pos: number;
  end: number;
  bb: number;
  bc: number;
  // Ring write position; bytes of the current chunk already written out of the ring.
  rp: number;
  flushed: number;
  /** Largest back-reference distance of the current payload (2^windowBits). */
  wsize: number;
  private none: Uint8Array;

  constructor(maxWindowBits: number) {
    this.ring = new Uint8Array(1 << maxWindowBits);
    this.lens = new Uint8Array(LENS_LEN);
    this.scratch = new Uint16Array(MAX_CODE_BITS + 1);
    this.lit = new HuffmanTable(LIT_SYMBOLS, LIT_FAST_BITS);
    this.dist = new HuffmanTable(DIST_SYMBOLS, DIST_FAST_BITS);
    this.fixedLoaded = false;
    this.none = new Uint8Array(0);
    this.data = this.none;
    this.pos = 0;
    this.end = 0;
    this.bb = 0;
    this.bc = 0;
    this.rp = 0;
    this.flushed = 0;
    this.wsize = 0;
  }

  /** Points the bit reader at data[off .. off + len) with an empty ring. */
  begin(data: Uint8Array, off: number, len: number): void {
    this.data = data;
    this.pos = off;
    this.end = off + len;
    this.bb = 0;
    this.bc = 0;
    this.rp = 0;
    this.flushed = 0;
  }

  /** The next n (<= 16) bits of the stream, least significant first. */
  bits(n: number): number {
    let bb = this.bb;
    if (this.bc < 16) {
      const data = this.data;
      const pos = this.pos;
      const end = this.end;
      bb |= ((pos < end ? data[pos] : 0) << this.bc) | ((pos + 1 < end ? data[pos + 1] : 0) << (this.bc + 8));
      this.pos = pos + 2;
      this.bc += 16;
    }
    this.bb = bb >>> n;
    this.bc -= n;
    return bb & ((1 << n) - 1);
  }

  /** The next symbol of code t (at most MAX_CODE_BITS bits), or -1 when no code matches. */
  symbol(t: HuffmanTable): number {
    this.bits(0);
    let e = t.fast[this.bb & ((1 << t.fastBits) - 1)];
    if ((e & 15) === 0) {
      this.bits(t.fastBits);
      this.bits(0);
      e = decodeLongCode(t, e >>> 4, this.bb);
      if (e < 0) return -1;
    }
    this.bits(e & 15);
    return e >>> 4;
  }

  /** Loads the fixed literal/length and distance codes (RFC 1951 §3.2.6). */
  loadFixed(): void {
    const lens = this.lens;
    let i = 0;
    for (i = 0; i < 144; i++) lens[i] = 8;
    for (; i < 256; i++) lens[i] = 9;
    for (; i < 280; i++) lens[i] = 7;
    for (; i < 288; i++) lens[i] = 8;
    buildHuffmanTable(this.lit, lens, 0, 288, this.scratch);
    for (i = 0; i < 32; i++) lens[i] = 5;
    buildHuffmanTable(this.dist, lens, 0, 32, this.scratch);
    this.fixedLoaded = true;
  }

  /**
   * Decodes data[off .. off + len), one complete raw deflate stream plus zero padding,
   * writing the output to out. windowBits: the payload's window (<= the ring's).
   * Returns Reason.OK, Reason.BAD_PAYLOAD or the first non-OK result of out.write.
   */
  inflate(data: Uint8Array, off: number, len: number, windowBits: number, out: ByteWriter): number {
    this.begin(data, off, len);
    this.wsize = 1 << windowBits;
    let last = 0;
    let type = 0;
    let r = Reason.OK;
    do {
      last = this.bits(1);
      type = this.bits(2);
      if (type === 0) {
        r = this.storedBlock(out);
      } else if (type === 1) {
        if (!this.fixedLoaded) this.loadFixed();
        r = this.decodeCodes(out);
      } else if (type === 2) {
        this.fixedLoaded = false;
        r = this.readDynamicHeader() === 0 ? this.decodeCodes(out) : Reason.BAD_PAYLOAD;
      } else {
        r = Reason.BAD_PAYLOAD;
      }
    } while (r === Reason.OK && last === 0);
    if (r === Reason.OK) r = this.finishStream(out);
    this.data = this.none;
    return r;
  }

  /**
   * After the final block: the block ended inside the byte at pos - (bc >>> 3) - 1 (bits
   * past it in that byte are not checked); the rest of the chunk is padding and must be
   * zero. Then the ring's last bytes go out.
   */
  private finishStream(out: ByteWriter): number {
    const data = this.data;
    const end = this.end;
    let pos = this.pos;
    if ((pos - end) * 8 > this.bc) return Reason.BAD_PAYLOAD;
    pos -= this.bc >>> 3;
    while (pos < end) {
      if (data[pos] !== 0) return Reason.BAD_PAYLOAD;
      pos++;
    }
    if (this.rp > 0) return out.write(this.ring, 0, this.rp);
    return Reason.OK;
  }

  /**
   * Hands the full ring to out, unless the decode has used more bits than the chunk holds
   * (pos, bc: the caller's bit state), which is BAD_PAYLOAD before any byte leaves.
   */
  private flushRing(out: ByteWriter, pos: number, bc: number): number {
    if ((pos - this.end) * 8 > bc) return Reason.BAD_PAYLOAD;
    this.flushed += this.ring.length;
    return out.write(this.ring, 0, this.ring.length);
  }

  /** A stored block (RFC 1951 §3.2.4), after its 3 header bits. */
  private storedBlock(out: ByteWriter): number {
    const data = this.data;
    const ring = this.ring;
    const rsize = ring.length;
    // Skip to the byte boundary, give back the whole bytes still buffered.
    this.bits(this.bc & 7);
    let pos = this.pos - (this.bc >>> 3);
    this.bb = 0;
    this.bc = 0;
    if (pos + 4 > this.end) return Reason.BAD_PAYLOAD;
    let length = data[pos] | (data[pos + 1] << 8);
    if ((data[pos + 2] | (data[pos + 3] << 8)) !== (length ^ 0xffff)) return Reason.BAD_PAYLOAD;
    pos += 4;
    if (pos + length > this.end) return Reason.BAD_PAYLOAD;
    let rp = this.rp;
    let n = 0;
    let r = 0;
    while (length > 0) {
      n = rsize - rp;
      if (n > length) n = length;
      length -= n;
      while (n > 0) {
        ring[rp++] = data[pos++];
        n--;
      }
      if (rp === rsize) {
        r = this.flushRing(out, pos, 0);
        if (r !== Reason.OK) return r;
        rp = 0;
      }
    }
    this.rp = rp;
    this.pos = pos;
    return Reason.OK;
  }

  /**
   * The symbols of a fixed or dynamic block (this.lit, this.dist) up to end-of-block.
   * The loop handles literals itself and hands each length/distance pair to copyMatch:
   * Espruino re-reads a loop's source text on every pass, so a short body is what makes
   * literals cheap there.
   */
  private decodeCodes(out: ByteWriter): number {
    const data = this.data;
    const end = this.end;
    const ring = this.ring;
    const rsize = ring.length;
    const lit = this.lit;
    const lfast = lit.fast;
    let bb = this.bb;
    let bc = this.bc;
    let pos = this.pos;
    let rp = this.rp;
    let e = 0;
    let n = 0;
    let r = 0;
    for (;;) {
      if (bc < 16) {
        bb |= ((pos < end ? data[pos] : 0) << bc) | ((pos + 1 < end ? data[pos + 1] : 0) << (bc + 8));
        pos += 2;
        bc += 16;
      }
      e = lfast[bb & 255];
      n = e & 15;
      if (n === 0) {
        e = decodeLongCode(lit, e >>> 4, bb >>> LIT_FAST_BITS);
        if (e < 0) return Reason.BAD_PAYLOAD;
        n = (e & 15) + LIT_FAST_BITS;
      }
      bb >>>= n;
      bc -= n;
      e >>>= 4;
      if (e < 256) {
        ring[rp++] = e;
        if (rp === rsize) {
          r = this.flushRing(out, pos, bc);
          if (r !== Reason.OK) return r;
          rp = 0;
        }
        continue;
      }
      this.pos = pos;
      this.bb = bb;
      this.bc = bc;
      this.rp = rp;
      if (e === 256) return Reason.OK;
      r = this.copyMatch(e - 257, out);
      if (r !== Reason.OK) return r;
      pos = this.pos;
      bb = this.bb;
      bc = this.bc;
      rp = this.rp;
    }
  }

  /**
   * One length/distance pair: sym is the length symbol minus 257; reads the length's extra
   * bits, the distance code and its extra bits, then copies in the ring.
   */
  private copyMatch(sym: number, out: ByteWriter): number {
    const data = this.data;
    const end = this.end;
    const ring = this.ring;
    const rsize = ring.length;
    const rmask = rsize - 1;
    const dist = this.dist;
    let pos = this.pos;
    let bb = this.bb;
    let bc = this.bc;
    let rp = this.rp;
    let e = 0;
    let n = 0;
    let length = 0;
    let distance = 0;
    let src = 0;
    let r = 0;
    if (sym >= 29) return Reason.BAD_PAYLOAD;
    if (bc < 16) {
      bb |= ((pos < end ? data[pos] : 0) << bc) | ((pos + 1 < end ? data[pos + 1] : 0) << (bc + 8));
      pos += 2;
      bc += 16;
    }
    length = LENGTH_BASE[sym];
    n = LENGTH_EXTRA[sym];
    length += bb & ((1 << n) - 1);
    bb >>>= n;
    bc -= n;
    if (bc < 16) {
      bb |= ((pos < end ? data[pos] : 0) << bc) | ((pos + 1 < end ? data[pos + 1] : 0) << (bc + 8));
      pos += 2;
      bc += 16;
    }
    e = dist.fast[bb & 63];
    n = e & 15;
    if (n === 0) {
      e = decodeLongCode(dist, e >>> 4, bb >>> DIST_FAST_BITS);
      if (e < 0) return Reason.BAD_PAYLOAD;
      n = (e & 15) + DIST_FAST_BITS;
    }
    bb >>>= n;
    bc -= n;
    sym = e >>> 4;
    if (sym >= 30) return Reason.BAD_PAYLOAD;
    if (bc < 16) {
      bb |= ((pos < end ? data[pos] : 0) << bc) | ((pos + 1 < end ? data[pos + 1] : 0) << (bc + 8));
      pos += 2;
      bc += 16;
    }
    distance = DIST_BASE[sym];
    n = DIST_EXTRA[sym];
    distance += bb & ((1 << n) - 1);
    this.pos = pos;
    this.bb = bb >>> n;
    this.bc = bc - n;
    if (distance > this.flushed + rp || distance > this.wsize) return Reason.BAD_PAYLOAD;
    if (distance <= rp && rp + length < rsize) {
      // The common case: source and destination inside the ring, no flush on the way.
      // Forward byte order makes an overlapping copy (distance < length) repeat bytes.
      src = rp - distance;
      while (length-- > 0) ring[rp++] = ring[src++];
      this.rp = rp;
      return Reason.OK;
    }
    src = (rp - distance) & rmask;
    while (length > 0) {
      ring[rp++] = ring[src];
      src = (src + 1) & rmask;
      length--;
      if (rp === rsize) {
        r = this.flushRing(out, pos, this.bc);
        if (r !== Reason.OK) return r;
        rp = 0;
      }
    }
    this.rp = rp;
    return Reason.OK;
  }

  /**
   * Reads a dynamic block's header (RFC 1951 §3.2.7) after its 3 header bits and builds
   * this.lit and this.dist. Returns 0, or -1 for an invalid header.
   */
  readDynamicHeader(): number {
    const lens = this.lens;
    const dist = this.dist;
    let i = 0;
    let n = 0;
    let sym = 0;
    let rep = 0;
    let fill = 0;
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const nclen = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) return -1;
    // The code-length code goes into the distance table for the time of the header.
    for (i = 0; i < 19; i++) lens[i] = 0;
    for (i = 0; i < nclen; i++) lens[CLEN_ORDER[i]] = this.bits(3);
    if (buildHuffmanTable(dist, lens, 0, 19, this.scratch) !== 0) return -1;
    const total = nlen + ndist;
    i = 0;
    while (i < total) {
      sym = this.symbol(dist);
      if (sym < 0) return -1;
      if (sym < 16) {
        lens[i++] = sym;
        continue;
      }
      if (sym === 16) {
        if (i === 0) return -1;
        fill = lens[i - 1];
        rep = 3 + this.bits(2);
      } else if (sym === 17) {
        fill = 0;
        rep = 3 + this.bits(3);
      } else {
        fill = 0;
        rep = 11 + this.bits(7);
      }
      if (i + rep > total) return -1;
      while (rep > 0) {
        lens[i++] = fill;
        rep--;
      }
    }
    // A literal/length code without end-of-block cannot end the block.
    if (lens[256] === 0) return -1;
    // Incomplete codes: only a single one-bit code (its other half decodes to nothing);
    // the distance code may also be empty (a block of literals only).
    n = buildHuffmanTable(this.lit, lens, 0, nlen, this.scratch);
    if (n < 0 || (n > 0 && !singleOneBitCode(this.lit))) return -1;
    n = buildHuffmanTable(dist, lens, nlen, ndist, this.scratch);
    if (n < 0 || (n > 0 && !singleOneBitCode(dist) && n !== 1 << MAX_CODE_BITS)) return -1;
    return 0;
  }
}
