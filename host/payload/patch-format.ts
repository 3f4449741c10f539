// The delta patch stream (SPEC §15): records of
//   uvarint copy-len, uvarint add-len, uvarint insert-len, svarint seek,
//   add-len diff bytes, insert-len literal bytes
// uvarint = LEB128, at most 5 bytes, value < 2^32; svarint = uvarint of the 32-bit zigzag value.
// Applying: old[pos, pos + copy-len) as it is, pos += copy-len; out = old[pos + k] + diff[k]
// (mod 256) for the add range, pos += add-len; the literal bytes as they are; pos += seek. The
// copy and add ranges together must lie inside the precursor, and pos stays a signed 32-bit value.

/** Largest uvarint value (2^32 - 1). */
export const MAX_UVARINT = 0xffffffff;
/** Smallest svarint seek, and smallest pos (-2^31). */
export const MIN_SEEK = -0x80000000;
/** Largest svarint seek, and largest pos (2^31 - 1). */
export const MAX_SEEK = 0x7fffffff;
const MAX_VARINT_BYTES = 5;

/** Appends patch records to a growing buffer. */
export class PatchWriter {
  private buf = new Uint8Array(4096);
  private len = 0;

  /**
   * Appends one record: `copy` precursor bytes as they are, add-len = diff.length bytes added to
   * the precursor after them, the literal bytes, then the seek. Throws RangeError for lengths or
   * a seek out of range.
   */
  record(copy: number, diff: Uint8Array, literal: Uint8Array, seek: number): void {
    this.uvarint(copy);
    this.uvarint(diff.length);
    this.uvarint(literal.length);
    if (!Number.isInteger(seek) || seek < MIN_SEEK || seek > MAX_SEEK) throw new RangeError(`seek ${seek} outside the 32-bit range`);
    this.uvarint(((seek << 1) ^ (seek >> 31)) >>> 0);
    this.bytes(diff);
    this.bytes(literal);
  }

  /** The records written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > MAX_UVARINT) throw new RangeError(`uvarint ${v} outside 0..2^32-1`);
    this.reserve(MAX_VARINT_BYTES);
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}

/** One record's header as read from a patch. */
export interface PatchRecordHeader {
  copyLen: number;
  addLen: number;
  insertLen: number;
  seek: number;
}

/**
 * Reads the record header at `off` of `patch`: the header and the offset of its diff bytes.
 * Throws RangeError for a truncated header, a varint longer than 5 bytes or a value >= 2^32.
 */
export function readRecordHeader(patch: Uint8Array, off: number): { header: PatchRecordHeader; next: number } {
  const copy = readUvarint(patch, off);
  const add = readUvarint(patch, copy.next);
  const ins = readUvarint(patch, add.next);
  const zig = readUvarint(patch, ins.next);
  // Zigzag back to a signed 32-bit value.
  const seek = (zig.value >>> 1) ^ -(zig.value & 1);
  return { header: { copyLen: copy.value, addLen: add.value, insertLen: ins.value, seek }, next: zig.next };
}

function readUvarint(patch: Uint8Array, off: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (off + i >= patch.length) throw new RangeError(`patch ends inside a varint at offset ${off}`);
    const b = patch[off + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > MAX_UVARINT) throw new RangeError(`varint at offset ${off} is 2^32 or more`);
      return { value, next: off + i + 1 };
    }
  }
  throw new RangeError(`varint at offset ${off} is longer than ${MAX_VARINT_BYTES} bytes`);
}

/**
 * The image that `patch` makes from the precursor `old`, applied on whole buffers (the host's
 * reference for the device's streamed applier). Throws RangeError for a malformed patch: a
 * truncated record, a bad varint, a copy-and-add range outside the precursor, or a seek that
 * takes pos outside the signed 32-bit range.
 */
export function applyPatch(old: Uint8Array, patch: Uint8Array): Uint8Array {
  // First pass: check every record and size the output; second pass: write it.
  let total = 0;
  let pos = 0;
  for (let off = 0; off < patch.length; ) {
    const { header, next } = readRecordHeader(patch, off);
    const { copyLen, addLen, insertLen, seek } = header;
    const span = copyLen + addLen;
    if (span > 0 && (pos < 0 || pos + span > old.length)) throw new RangeError(`copy and add range [${pos}, ${pos + span}) outside the precursor of ${old.length} bytes`);
    if (pos + span + seek < MIN_SEEK || pos + span + seek > MAX_SEEK) throw new RangeError(`seek ${seek} takes pos ${pos + span} outside the 32-bit range`);
    if (next + addLen + insertLen > patch.length) throw new RangeError(`patch ends inside the record at offset ${off}`);
    total += span + insertLen;
    pos += span + seek;
    off = next + addLen + insertLen;
  }
  const out = new Uint8Array(total);
  let at = 0;
  pos = 0;
  for (let off = 0; off < patch.length; ) {
    const { header, next } = readRecordHeader(patch, off);
    const { copyLen, addLen, insertLen, seek } = header;
    out.set(old.subarray(pos, pos + copyLen), at);
    at += copyLen;
    pos += copyLen;
    for (let k = 0; k < addLen; k++) out[at + k] = old[pos + k] + patch[next + k];
    out.set(patch.subarray(next + addLen, next + addLen + insertLen), at + addLen);
    at += addLen + insertLen;
    pos += addLen + seek;
    off = next + addLen + insertLen;
  }
  return out;
}
