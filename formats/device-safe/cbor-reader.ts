// Strict CBOR reader for the device (CONSTRAINED TS: see docs/CONSTRAINED-TS.md).
// Reads deterministic CBOR (RFC 8949 §4.2.1) in place from a Uint8Array region: no copies,
// no allocation after construction, no exceptions. Every input byte is attacker-controlled:
// each head is bounds-checked against the region end before it is used.
//
// Errors are Reason codes stored in `err` (first error wins):
//   MALFORMED      not well-formed, or CBOR that fwseal never allows (floats, simple values
//                  other than false/true/null/undefined, tags where none is allowed,
//                  a break byte, reserved additional info 28..30)
//   NON_CANONICAL  valid CBOR that is not deterministic: a non-shortest head, an indefinite
//                  length, unsorted or duplicate map keys
//   TOO_LARGE      nesting deeper than MAX_DEPTH, more than MAX_MAP_ENTRIES / MAX_ARRAY_ITEMS,
//                  or an integer the caller interprets that exceeds 2^53 - 1
import { Reason } from "./reasons.js";
import { Limits } from "./limits.js";

export const Major = { UINT: 0, NINT: 1, BSTR: 2, TSTR: 3, ARRAY: 4, MAP: 5, TAG: 6, SIMPLE: 7 };

// 2^32 and 2^53 as literals (no Math.pow / ** on the device).
const TWO_32 = 4294967296;
const TWO_21 = 2097152; // 2^53 / 2^32

// Bytewise comparison of a[aOff..aOff+aLen) and b[bOff..bOff+bLen): <0, 0, >0.
export function compareBytes(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aOff + i] - b[bOff + i];
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

export class CborReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  err: number;
  // Result of the last head(): major type, argument (exact if !big), start of the head.
  major: number;
  arg: number;
  big: boolean;
  headStart: number;
  // For bstr/tstr: offset of the content (pos is already past it).
  dataOff: number;
  // Host inspection only, never set on a device: accept heads that are not in shortest
  // form, so a bundle the verifier rejects can still be described. Everything else
  // (bounds, indefinite lengths, floats, key order in readKey / skip) stays strict.
  lenient: boolean;
  // Skip stack, allocated once: remaining items, map flag, start of the current item.
  private stRem: Float64Array;
  private stMap: Uint8Array;
  private stItem: Int32Array;
  private stPrevKey: Int32Array;
  private stPrevKeyLen: Int32Array;

  constructor() {
    this.buf = new Uint8Array(0);
    this.pos = 0;
    this.end = 0;
    this.err = 0;
    this.major = 0;
    this.arg = 0;
    this.big = false;
    this.headStart = 0;
    this.dataOff = 0;
    this.lenient = false;
    const n = Limits.MAX_DEPTH + 1;
    this.stRem = new Float64Array(n);
    this.stMap = new Uint8Array(n);
    this.stItem = new Int32Array(n);
    this.stPrevKey = new Int32Array(n);
    this.stPrevKeyLen = new Int32Array(n);
  }

  // Reads from buf[off .. end).
  init(buf: Uint8Array, off: number, end: number): void {
    this.buf = buf;
    this.pos = off;
    this.end = end;
    this.err = 0;
  }

  // Records the first error; always returns false so callers can `return r.fail(X)`.
  fail(reason: number): boolean {
    if (this.err === 0) this.err = reason;
    return false;
  }

  // Reads one head at pos. For bstr/tstr also consumes the content (dataOff = its start).
  // Rejects what fwseal never allows (see top of file). Tags are returned to the caller,
  // which decides whether one is allowed there.
  head(): boolean {
    if (this.err !== 0) return false;
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) return this.fail(Reason.MALFORMED);
    this.headStart = p;
    const ib = b[p++];
    const major = ib >> 5;
    const ai = ib & 31;
    let arg = 0;
    let big = false;
    if (ai < 24) {
      arg = ai;
    } else if (ai === 24) {
      if (p + 1 > this.end) return this.fail(Reason.MALFORMED);
      arg = b[p++];
      if (arg < 24 && major !== 7 && !this.lenient) return this.fail(Reason.NON_CANONICAL);
    } else if (ai === 25) {
      if (p + 2 > this.end) return this.fail(Reason.MALFORMED);
      arg = b[p] * 256 + b[p + 1];
      p += 2;
      if (arg < 256 && major !== 7 && !this.lenient) return this.fail(Reason.NON_CANONICAL);
    } else if (ai === 26) {
      if (p + 4 > this.end) return this.fail(Reason.MALFORMED);
      arg = ((b[p] * 256 + b[p + 1]) * 256 + b[p + 2]) * 256 + b[p + 3];
      p += 4;
      if (arg < 65536 && major !== 7 && !this.lenient) return this.fail(Reason.NON_CANONICAL);
    } else if (ai === 27) {
      if (p + 8 > this.end) return this.fail(Reason.MALFORMED);
      const hi = ((b[p] * 256 + b[p + 1]) * 256 + b[p + 2]) * 256 + b[p + 3];
      const lo = ((b[p + 4] * 256 + b[p + 5]) * 256 + b[p + 6]) * 256 + b[p + 7];
      p += 8;
      if (hi === 0 && major !== 7 && !this.lenient) return this.fail(Reason.NON_CANONICAL);
      big = hi >= TWO_21;
      arg = hi * TWO_32 + lo; // exact when !big
    } else if (ai === 31) {
      // Indefinite length (valid CBOR, not deterministic) or a stray break byte.
      if (major >= 2 && major <= 5) return this.fail(Reason.NON_CANONICAL);
      return this.fail(Reason.MALFORMED);
    } else {
      return this.fail(Reason.MALFORMED); // reserved 28..30
    }
    if (major === 7) {
      // Only false, true, null, undefined (0xf4..0xf7). No floats, no 1-byte simple values.
      if (ai < 20 || ai > 23) return this.fail(Reason.MALFORMED);
    }
    this.major = major;
    this.arg = arg;
    this.big = big;
    if (major === 2 || major === 3) {
      if (big || arg > this.end - p) return this.fail(Reason.MALFORMED);
      this.dataOff = p;
      p += arg;
    }
    this.pos = p;
    return true;
  }

  // Unsigned integer <= 2^53 - 1; -1 on error (MALFORMED for another type, TOO_LARGE if bigger).
  readUint(): number {
    if (!this.head()) return -1;
    if (this.major !== 0) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    if (this.big) {
      this.fail(Reason.TOO_LARGE);
      return -1;
    }
    return this.arg;
  }

  // After head(): is the item an integer (major 0 or 1) that fits a double exactly?
  // intValue() then gives it. Big integers are reported as not fitting.
  isInt(): boolean {
    return (this.major === 0 || this.major === 1) && !this.big;
  }

  intValue(): number {
    return this.major === 0 ? this.arg : -1 - this.arg;
  }

  // Byte string: returns its length (content at dataOff), -1 on error.
  readBytes(): number {
    if (!this.head()) return -1;
    if (this.major !== 2) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    return this.arg;
  }

  // Byte string of exactly n bytes: returns its offset, -1 on error (MALFORMED).
  readBytesN(n: number): number {
    const len = this.readBytes();
    if (len < 0) return -1;
    if (len !== n) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    return this.dataOff;
  }

  // Text string: returns its byte length (content at dataOff), -1 on error.
  readText(): number {
    if (!this.head()) return -1;
    if (this.major !== 3) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    return this.arg;
  }

  // Array head: returns the item count, -1 on error (TOO_LARGE above MAX_ARRAY_ITEMS).
  readArray(): number {
    if (!this.head()) return -1;
    if (this.major !== 4) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    if (this.arg > Limits.MAX_ARRAY_ITEMS) {
      this.fail(Reason.TOO_LARGE);
      return -1;
    }
    return this.arg;
  }

  // Map head: returns the entry count, -1 on error (TOO_LARGE above MAX_MAP_ENTRIES).
  readMap(): number {
    if (!this.head()) return -1;
    if (this.major !== 5) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    if (this.arg > Limits.MAX_MAP_ENTRIES) {
      this.fail(Reason.TOO_LARGE);
      return -1;
    }
    return this.arg;
  }

  // Reads a map key that is an integer or a text string and checks that it sorts strictly
  // after the previous key (prevOff < 0: first key); any other key type is MALFORMED.
  // Returns the key's encoded length (> 0), -1 on error. headStart is the key's offset;
  // for an integer key isInt() / intValue() give its value (big integers: isInt() false).
  readKey(prevOff: number, prevLen: number): number {
    if (!this.head()) return -1;
    if (this.major !== 0 && this.major !== 1 && this.major !== 3) {
      this.fail(Reason.MALFORMED);
      return -1;
    }
    const len = this.pos - this.headStart;
    if (prevOff >= 0 && compareBytes(this.buf, prevOff, prevLen, this.buf, this.headStart, len) >= 0) {
      this.fail(Reason.NON_CANONICAL);
      return -1;
    }
    return len;
  }

  // Skips one complete data item, validating all of it: well-formed, deterministic (incl.
  // map key order and uniqueness, keys of any type), no tags, depth and count bounds.
  // `depth` = number of containers enclosing the item. Iterative: fixed stack, no recursion.
  skip(depth: number): boolean {
    let sp = 0;
    for (;;) {
      if (!this.head()) return false;
      const maj = this.major;
      if (maj === 6) return this.fail(Reason.MALFORMED);
      if (maj === 4 || maj === 5) {
        if (depth + sp + 1 > Limits.MAX_DEPTH) return this.fail(Reason.TOO_LARGE);
        if (maj === 4 && this.arg > Limits.MAX_ARRAY_ITEMS) return this.fail(Reason.TOO_LARGE);
        if (maj === 5 && this.arg > Limits.MAX_MAP_ENTRIES) return this.fail(Reason.TOO_LARGE);
        const n = maj === 5 ? this.arg * 2 : this.arg;
        if (n > 0) {
          this.stRem[sp] = n;
          this.stMap[sp] = maj === 5 ? 1 : 0;
          this.stItem[sp] = this.pos;
          this.stPrevKey[sp] = -1;
          this.stPrevKeyLen[sp] = 0;
          sp++;
          continue;
        }
      }
      // One item completed at level sp-1 (or the top item if sp is 0).
      while (sp > 0) {
        const lv = sp - 1;
        const rem = this.stRem[lv];
        if (this.stMap[lv] === 1 && (rem & 1) === 0) {
          // That item was a map key: it must sort strictly after the previous key.
          const ks = this.stItem[lv];
          const kl = this.pos - ks;
          const pk = this.stPrevKey[lv];
          if (pk >= 0 && compareBytes(this.buf, pk, this.stPrevKeyLen[lv], this.buf, ks, kl) >= 0) {
            return this.fail(Reason.NON_CANONICAL);
          }
          this.stPrevKey[lv] = ks;
          this.stPrevKeyLen[lv] = kl;
        }
        this.stRem[lv] = rem - 1;
        if (rem - 1 > 0) {
          this.stItem[lv] = this.pos;
          break;
        }
        sp--;
      }
      if (sp === 0) return true;
    }
  }
}

// Finds the end of one top-level data item in a growing stream prefix, resumably: call
// scan() again with more bytes (same buffer, same start, larger avail) and it continues
// where it stopped. Checks heads (shortest form, no indefinite lengths, allowed major
// types), depth and counts, and that the item fits in maxLen; tags are allowed (the
// full parse decides where). Key order is left to the full parse.
// scan() returns: > 0 the item's total length; 0 (SCAN_NEED_MORE) need more bytes; < 0
// minus a Reason.
export const SCAN_NEED_MORE = 0;
export class CborItemScanner {
  private r: CborReader;
  private rem: Float64Array;
  private sp: number;
  private pos: number;
  private done: number;
  private maxLen: number;
  // After scan() returned 0: the prefix length needed before scanning can progress.
  need: number;

  constructor() {
    this.need = 0;
    this.r = new CborReader();
    this.rem = new Float64Array(Limits.MAX_DEPTH + 1);
    this.sp = 0;
    this.pos = 0;
    this.done = 0;
    this.maxLen = 0;
  }

  reset(maxLen: number): void {
    this.sp = 0;
    this.pos = 0;
    this.done = 0;
    this.need = 1;
    this.maxLen = maxLen;
  }

  // buf[0 .. avail) holds the stream prefix (the item starts at 0).
  scan(buf: Uint8Array, avail: number): number {
    if (this.done !== 0) return this.done;
    const r = this.r;
    for (;;) {
      // Try to read the next head; a head cut off by `avail` means "need more".
      r.init(buf, this.pos, avail);
      if (!r.head()) {
        // A head or string that runs past avail: more bytes needed, unless that would
        // overrun maxLen. Any other error is final.
        if (r.err === Reason.MALFORMED && this.incomplete(buf, avail)) {
          return this.need > this.maxLen ? this.finish(-Reason.TOO_LARGE) : 0;
        }
        return this.finish(-r.err);
      }
      const maj = r.major;
      let p = r.pos;
      if (maj === 4 || maj === 5) {
        if (this.sp + 1 > Limits.MAX_DEPTH) return this.finish(-Reason.TOO_LARGE);
        if (maj === 4 && r.arg > Limits.MAX_ARRAY_ITEMS) return this.finish(-Reason.TOO_LARGE);
        if (maj === 5 && r.arg > Limits.MAX_MAP_ENTRIES) return this.finish(-Reason.TOO_LARGE);
        const n = maj === 5 ? r.arg * 2 : r.arg;
        this.pos = p;
        if (n > 0) {
          this.rem[this.sp] = n;
          this.sp++;
          continue;
        }
      } else if (maj === 6) {
        // The tag's content is the next item; nothing completes yet.
        this.pos = p;
        continue;
      }
      this.pos = p;
      // One item completed: unwind finished containers.
      while (this.sp > 0) {
        const lv = this.sp - 1;
        this.rem[lv] = this.rem[lv] - 1;
        if (this.rem[lv] > 0) break;
        this.sp--;
      }
      if (this.sp === 0) {
        if (this.pos > this.maxLen) return this.finish(-Reason.TOO_LARGE);
        return this.finish(this.pos);
      }
      if (this.pos > this.maxLen) return this.finish(-Reason.TOO_LARGE);
    }
  }

  // After a failed head() at this.pos: was it only cut off by `avail`? Sets `need`.
  private incomplete(buf: Uint8Array, avail: number): boolean {
    const p = this.pos;
    if (p >= avail) {
      this.need = p + 1;
      return true;
    }
    const ai = buf[p] & 31;
    const major = buf[p] >> 5;
    let hl = 1;
    if (ai === 24) hl = 2;
    else if (ai === 25) hl = 3;
    else if (ai === 26) hl = 5;
    else if (ai === 27) hl = 9;
    if (p + hl > avail) {
      this.need = p + hl;
      return true;
    }
    if (major === 2 || major === 3) {
      // The head is complete, so the string content is what is missing. Re-read the head
      // with an unbounded end to learn its length (the head itself was valid).
      let len = 0;
      if (ai < 24) len = ai;
      else if (ai === 24) len = buf[p + 1];
      else if (ai === 25) len = buf[p + 1] * 256 + buf[p + 2];
      else if (ai === 26) len = ((buf[p + 1] * 256 + buf[p + 2]) * 256 + buf[p + 3]) * 256 + buf[p + 4];
      else len = TWO_32 * TWO_32; // 8-byte length: always beyond any envelope bound
      // Non-shortest heads were already reported by head() as NON_CANONICAL, not here.
      this.need = p + hl + len;
      return true;
    }
    return false;
  }

  private finish(v: number): number {
    this.done = v;
    return v;
  }
}

/**
 * Convenience for the host (allocates a scanner; device code keeps one CborItemScanner):
 * length of the complete CBOR item at buf[0..avail), 0 if more bytes are needed, or
 * minus a Reason. maxLen bounds the item (e.g. Limits.MAX_ENVELOPE).
 */
export function cborItemLength(buf: Uint8Array, avail: number, maxLen: number): number {
  const s = new CborItemScanner();
  s.reset(maxLen);
  return s.scan(buf, avail);
}

// Key types a map walk accepts (CborMapWalk.begin).
export const MapKeys = {
  ANY: 0, // integer or text keys
  INT: 1, // integer keys; a text key is MALFORMED; a big integer is allowed (isInt() false)
  SAFE_INT: 2 // integer keys that fit a double; text is MALFORMED, a bigger integer TOO_LARGE
};

// Walks the entries of one map on a CborReader, enforcing deterministic key order (each
// key sorts strictly after the previous one, so keys are also unique) and the key type.
// Allocation-free; errors go to the reader's `err` (first error wins), never thrown.
//
//   if (walk.begin(MapKeys.INT) < 0) return r.err;
//   while (walk.next()) { key: r.isInt() / r.intValue(); then read or skip its value }
//   if (r.err !== 0) return r.err;
//
// The caller reads or skips each value before the next next(). Nested maps on the same
// reader need a walk each.
export class CborMapWalk {
  private r: CborReader;
  private left: number;
  private kind: number;
  private prevOff: number;
  private prevLen: number;

  constructor(r: CborReader) {
    this.r = r;
    this.left = 0;
    this.kind = 0;
    this.prevOff = -1;
    this.prevLen = 0;
  }

  // Reads a map head at the reader's position: the entry count, -1 on error
  // (MALFORMED: not a map; TOO_LARGE: above MAX_MAP_ENTRIES).
  begin(kind: number): number {
    this.left = 0;
    const n = this.r.readMap();
    if (n < 0) return -1;
    this.beginAfterHead(n, kind);
    return n;
  }

  // Like begin(), for a map whose head the caller has already read: `count` entries follow.
  beginAfterHead(count: number, kind: number): void {
    this.left = count;
    this.kind = kind;
    this.prevOff = -1;
    this.prevLen = 0;
  }

  // Reads the next key: true if one was read (the reader is then at its value), false
  // when the map has no more entries or on an error (reader err set).
  next(): boolean {
    const r = this.r;
    if (this.left <= 0 || r.err !== 0) return false;
    const len = r.readKey(this.prevOff, this.prevLen);
    if (len < 0) return false;
    if (this.kind !== MapKeys.ANY && r.major === 3) return r.fail(Reason.MALFORMED);
    if (this.kind === MapKeys.SAFE_INT && r.big) return r.fail(Reason.TOO_LARGE);
    this.prevOff = r.headStart;
    this.prevLen = len;
    this.left--;
    return true;
  }
}
