// Streamed interpreter of the delta patch of SPEC §15 (payload encoding 3), in constrained TS.
//
// The patch is a sequence of records `uvarint copy-len, uvarint add-len, uvarint insert-len,
// svarint seek, add-len diff bytes, insert-len literal bytes`. With old = the precursor image
// and pos starting at 0: old[pos .. pos + copy-len) is output as it is, pos += copy-len; then
// out = old[pos + k] + diff[k] (mod 256) for each diff byte, pos += add-len; the literal bytes
// are output as they are; then pos += seek. A copy carries no bytes in the patch, so the long
// unchanged stretches of an image cost a varint instead of one zero diff byte each.
//
// The decoded stream arrives in pieces of any size (a varint may be split between them), so
// the interpreter is a state machine whose whole state fits the PATCH_STATE_LEN bytes save
// writes. Checks, when a record's header is complete (before any of its bytes is output): a
// copy-and-add range [pos, pos + copy-len + add-len) that is not inside [0, precursor size),
// or a pos after the seek outside -2^31 .. 2^31 - 1: BAD_PAYLOAD (an empty range reads nothing
// and is not checked); a varint longer than 5 bytes or >= 2^32: BAD_PAYLOAD as it is read; a
// byte output at or beyond image-size: RESULT_MISMATCH (checked per output piece, before it
// reaches the sink). The copy runs as soon as the header is complete, so no state at a piece
// boundary is ever inside a copy.
//
// State record (PATCH_STATE_LEN = 28 bytes, little-endian; the decoder writes it after its u32
// outPos):
//   0      phase (PatchPhase)
//   1      bytes of the current varint read (0..4)
//   2..3   zero
//   4..7   u32 value of those varint bytes
//   8..11  u32 copy-len (while the rest of the header is read; 0 once the copy is done)
//   12..15 u32 add bytes left (the whole add-len while the header is read)
//   16..19 u32 literal bytes left
//   20..23 i32 seek
//   24..27 i32 pos

import { Reason } from "../../../formats/device-safe/reasons.js";
import { getU32, putU32 } from "../../../formats/device-safe/protocol.js";
import type { PayloadSink } from "./sink.js";

/** Where the interpreter is inside a record: one of the four header varints, the diff bytes or the literal bytes. */
export const PatchPhase = { COPY_LEN: 0, ADD_LEN: 1, INSERT_LEN: 2, SEEK: 3, ADD: 4, INSERT: 5 };

/** Bytes of the buffer that carries precursor bytes (copied, or plus diff bytes) to the sink. */
export const PATCH_BUFFER_LEN = 64;

/** Bytes save writes (the interpreter's part of the decoder state record). */
export const PATCH_STATE_LEN = 28;

/** Bounds of pos (a signed 32-bit value). */
const MIN_POS = -2147483648;
const MAX_POS = 2147483647;

/** Applies a streamed patch to the precursor read through a PayloadSink. Numeric fields are set by reset(). */
export class PatchInterpreter {
  /** Holds precursor bytes, then their sums with the diff bytes, on their way to the sink. */
  buf: Uint8Array;
  phase!: number;
  /** Bytes of the current varint read so far (0..4) and their value. */
  varCount!: number;
  varValue!: number;
  /** The record's copy-len, from when it is read until the copy is done. */
  copyLen!: number;
  /** Add bytes still to come (the whole add-len until the header is complete). */
  addLen!: number;
  /** Literal bytes still to come. */
  insertLen!: number;
  seek!: number;
  /** Position in the precursor (a signed 32-bit value; may lie outside the precursor between ranges). */
  pos!: number;
  outPos!: number;
  imageSize!: number;
  precursorSize!: number;

  constructor() {
    this.buf = new Uint8Array(PATCH_BUFFER_LEN);
    this.reset(0, 0);
  }

  /** Starts a new patch: nothing output, at a record boundary. */
  reset(imageSize: number, precursorSize: number): void {
    this.phase = PatchPhase.COPY_LEN;
    this.varCount = 0;
    this.varValue = 0;
    this.copyLen = 0;
    this.addLen = 0;
    this.insertLen = 0;
    this.seek = 0;
    this.pos = 0;
    this.outPos = 0;
    this.imageSize = imageSize;
    this.precursorSize = precursorSize;
  }

  /** True between records (where the patch may end). */
  atRecordBoundary(): boolean {
    return this.phase === PatchPhase.COPY_LEN && this.varCount === 0;
  }

  /**
   * The header is complete: checks the record's range and final pos, outputs its copy, then
   * moves past the parts with no bytes. Returns Reason.OK, BAD_PAYLOAD or RESULT_MISMATCH.
   */
  private begin(sink: PayloadSink): number {
    const span = this.copyLen + this.addLen;
    if (span > 0 && (this.pos < 0 || this.pos + span > this.precursorSize)) return Reason.BAD_PAYLOAD;
    const after = this.pos + span + this.seek;
    if (after < MIN_POS || after > MAX_POS) return Reason.BAD_PAYLOAD;
    // The copy, in whole buffers: one precursor read and one output per piece.
    const buf = this.buf;
    const imageSize = this.imageSize;
    let left = this.copyLen;
    let pos = this.pos;
    let outPos = this.outPos;
    let n = 0;
    while (left > 0) {
      n = left < PATCH_BUFFER_LEN ? left : PATCH_BUFFER_LEN;
      if (outPos + n > imageSize) break;
      sink.readPrecursor(pos, buf, 0, n);
      sink.output(buf, 0, n);
      outPos += n;
      pos += n;
      left -= n;
    }
    this.copyLen = left;
    this.pos = pos;
    this.outPos = outPos;
    if (left > 0) return Reason.RESULT_MISMATCH;
    this.phase = PatchPhase.ADD;
    this.settle();
    return Reason.OK;
  }

  /** Moves past the parts of the current record that have no bytes left (add-len 0, insert-len 0). */
  private settle(): void {
    if (this.phase === PatchPhase.ADD && this.addLen === 0) this.phase = PatchPhase.INSERT;
    if (this.phase === PatchPhase.INSERT && this.insertLen === 0) {
      this.pos += this.seek;
      this.seek = 0;
      this.phase = PatchPhase.COPY_LEN;
    }
  }

  /**
   * Interprets the next decoded bytes src[off .. off + len), writing the image to sink.
   * Returns Reason.OK, BAD_PAYLOAD or RESULT_MISMATCH (the patch is then unusable).
   */
  write(src: Uint8Array, off: number, len: number, sink: PayloadSink): number {
    const end = off + len;
    const buf = this.buf;
    let b = 0;
    let n = 0;
    let i = 0;
    let v = 0;
    let r = 0;
    while (off < end) {
      if (this.phase < PatchPhase.ADD) {
        // One varint byte. The 5th byte may carry only the 4 top bits of a u32 and no
        // continuation bit.
        b = src[off++];
        if (this.varCount === 4) {
          if (b > 15) return Reason.BAD_PAYLOAD;
          v = this.varValue + b * 268435456;
        } else {
          this.varValue |= (b & 127) << (7 * this.varCount);
          if (b > 127) {
            this.varCount++;
            continue;
          }
          v = this.varValue;
        }
        this.varCount = 0;
        this.varValue = 0;
        if (this.phase === PatchPhase.COPY_LEN) {
          this.copyLen = v;
          this.phase = PatchPhase.ADD_LEN;
        } else if (this.phase === PatchPhase.ADD_LEN) {
          this.addLen = v;
          this.phase = PatchPhase.INSERT_LEN;
        } else if (this.phase === PatchPhase.INSERT_LEN) {
          this.insertLen = v;
          this.phase = PatchPhase.SEEK;
        } else {
          // zigzag: 2n for n >= 0, -2n - 1 for n < 0
          this.seek = (v >>> 1) ^ -(v & 1);
          r = this.begin(sink);
          if (r !== Reason.OK) return r;
        }
        continue;
      }
      if (this.phase === PatchPhase.ADD) {
        n = end - off;
        if (n > this.addLen) n = this.addLen;
        if (n > PATCH_BUFFER_LEN) n = PATCH_BUFFER_LEN;
        if (this.outPos + n > this.imageSize) return Reason.RESULT_MISMATCH;
        sink.readPrecursor(this.pos, buf, 0, n);
        for (i = 0; i < n; i++) buf[i] = (buf[i] + src[off + i]) & 255;
        sink.output(buf, 0, n);
        this.outPos += n;
        this.pos += n;
        this.addLen -= n;
        off += n;
        if (this.addLen === 0) this.settle();
        continue;
      }
      n = end - off;
      if (n > this.insertLen) n = this.insertLen;
      if (this.outPos + n > this.imageSize) return Reason.RESULT_MISMATCH;
      sink.output(src, off, n);
      this.outPos += n;
      this.insertLen -= n;
      off += n;
      if (this.insertLen === 0) this.settle();
    }
    return Reason.OK;
  }

  /** Writes the interpreter's state (PATCH_STATE_LEN bytes, layout above) to out[off ..]. */
  save(out: Uint8Array, off: number): void {
    out[off] = this.phase;
    out[off + 1] = this.varCount;
    out[off + 2] = 0;
    out[off + 3] = 0;
    putU32(out, off + 4, this.varValue);
    putU32(out, off + 8, this.copyLen);
    putU32(out, off + 12, this.addLen);
    putU32(out, off + 16, this.insertLen);
    putU32(out, off + 20, this.seek >>> 0);
    putU32(out, off + 24, this.pos >>> 0);
  }

  /**
   * Restores a state written by save (after reset with the same image and precursor sizes)
   * with outPos image bytes already output. Returns Reason.OK, or BAD_STATE when the record
   * is not one save can have written for this patch.
   */
  load(src: Uint8Array, off: number, outPos: number): number {
    const phase = src[off];
    const varCount = src[off + 1];
    const varValue = getU32(src, off + 4);
    const copyLen = getU32(src, off + 8);
    const addLen = getU32(src, off + 12);
    const insertLen = getU32(src, off + 16);
    const seek = getU32(src, off + 20) | 0;
    const pos = getU32(src, off + 24) | 0;
    if (src[off + 2] !== 0 || src[off + 3] !== 0 || phase > PatchPhase.INSERT || varCount > 4) return Reason.BAD_STATE;
    if (outPos > this.imageSize) return Reason.BAD_STATE;
    // A partial varint only while reading one, and never more bits than its bytes carry.
    if (phase >= PatchPhase.ADD && varCount !== 0) return Reason.BAD_STATE;
    if (varValue >= 1 << (7 * varCount)) return Reason.BAD_STATE;
    // Fields not yet read are zero; once the header is complete the copy is done, the add part
    // left is inside the precursor and the pos after the seek is a 32-bit value.
    if (phase === PatchPhase.COPY_LEN && copyLen !== 0) return Reason.BAD_STATE;
    if (phase <= PatchPhase.ADD_LEN && addLen !== 0) return Reason.BAD_STATE;
    if (phase <= PatchPhase.INSERT_LEN && insertLen !== 0) return Reason.BAD_STATE;
    if (phase <= PatchPhase.SEEK && seek !== 0) return Reason.BAD_STATE;
    if (phase >= PatchPhase.ADD && copyLen !== 0) return Reason.BAD_STATE;
    if (phase === PatchPhase.ADD && (addLen === 0 || pos < 0 || pos + addLen > this.precursorSize)) return Reason.BAD_STATE;
    if (phase === PatchPhase.INSERT && (addLen !== 0 || insertLen === 0)) return Reason.BAD_STATE;
    if (phase >= PatchPhase.ADD && (pos + addLen + seek < MIN_POS || pos + addLen + seek > MAX_POS)) return Reason.BAD_STATE;
    this.phase = phase;
    this.varCount = varCount;
    this.varValue = varValue;
    this.copyLen = copyLen;
    this.addLen = addLen;
    this.insertLen = insertLen;
    this.seek = seek;
    this.pos = pos;
    this.outPos = outPos;
    return Reason.OK;
  }
}
