// Host-side CBOR decoder to JS values (normal TS), built on the device's CborReader so
// both sides accept exactly the same bytes. Throws CborDecodeError carrying the Reason code.
//
// Strict mode (the default) accepts only what a device accepts: deterministic encoding,
// sorted unique map keys, the device's depth and count limits, tags only where allowed.
// Lenient mode is for describing bytes, never for deciding on them (`fwseal inspect`
// shows what a rejected bundle holds): it also takes non-shortest heads, unsorted or
// duplicate map keys (the last one wins), any tag, text that is not UTF-8 (shown with
// U+FFFD) and larger nesting and counts. Lengths are still checked against the input.
import { Cbor, CborMap, CborTag } from "./cbor-encode.js";
import { CborReader, compareBytes } from "../device-safe/cbor-reader.js";
import { Reason, reasonName } from "../device-safe/reasons.js";
import { Limits } from "../device-safe/limits.js";

/** A decoding failure: `reason` is the Reason code, `offset` where the bad item starts. */
export class CborDecodeError extends Error {
  readonly reason: number;
  readonly offset: number;
  constructor(reason: number, what: string, offset = -1) {
    super(`${what}${offset >= 0 ? ` at byte ${offset}` : ""} (${reasonName(reason)})`);
    this.reason = reason;
    this.offset = offset;
  }
}

/** How strictly to decode. */
export interface DecodeOptions {
  /** Tags accepted (at any position); default none. Lenient mode accepts every tag. */
  allowTags?: number[];
  /** Describe rather than judge (see the top of this file). Default false. */
  lenient?: boolean;
}

/** Nesting bound in lenient mode: deep enough for anything worth showing, bounded for safety. */
const LENIENT_MAX_DEPTH = 32;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });

class ValueDecoder {
  private readonly r = new CborReader();
  private readonly maxDepth: number;

  constructor(
    bytes: Uint8Array,
    offset: number,
    private readonly opts: DecodeOptions
  ) {
    this.r.init(bytes, offset, bytes.length);
    this.r.lenient = opts.lenient === true;
    this.maxDepth = opts.lenient ? LENIENT_MAX_DEPTH : Limits.MAX_DEPTH;
  }

  get pos(): number {
    return this.r.pos;
  }

  private fail(reason: number, what: string, at: number): never {
    throw new CborDecodeError(reason, what, at);
  }

  // A container's item count: the device's limit when strict; when lenient, only what the
  // remaining bytes can hold (each item is at least one byte).
  private count(n: number, limit: number, kind: string, at: number): number {
    if (this.opts.lenient) {
      if (n > this.r.end - this.r.pos) this.fail(Reason.MALFORMED, `${kind} count exceeds the input`, at);
    } else if (n > limit) {
      this.fail(Reason.TOO_LARGE, `${kind} with more than ${limit} items`, at);
    }
    return n;
  }

  // Why head() refused the item at `at`, in words (the reader itself keeps only a Reason).
  private headProblem(at: number): string {
    const r = this.r;
    if (at >= r.end) return "truncated CBOR item";
    const major = r.buf[at] >> 5;
    const ai = r.buf[at] & 31;
    if (ai >= 28 && ai <= 30) return `reserved additional info ${ai}`;
    if (ai === 31) return major >= 2 && major <= 5 ? "indefinite length" : "unexpected break byte";
    if (r.err === Reason.NON_CANONICAL) return "head not in shortest form";
    if (major === 7) return "floating point or simple value";
    return "truncated CBOR item";
  }

  value(depth: number): Cbor {
    const r = this.r;
    const at = r.pos;
    if (!r.head()) this.fail(r.err, this.headProblem(at), at);
    const b = r.buf;
    switch (r.major) {
      case 0:
        return r.big ? readBig(b, r.headStart) : r.arg;
      case 1:
        return r.big ? -1n - readBig(b, r.headStart) : -1 - r.arg;
      case 2:
        return b.slice(r.dataOff, r.dataOff + r.arg);
      case 3:
        return this.text(b.subarray(r.dataOff, r.dataOff + r.arg), at);
      case 4: {
        if (depth + 1 > this.maxDepth) this.fail(Reason.TOO_LARGE, "nesting too deep", at);
        const n = this.count(r.arg, Limits.MAX_ARRAY_ITEMS, "array", at);
        const out: Cbor[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case 5: {
        if (depth + 1 > this.maxDepth) this.fail(Reason.TOO_LARGE, "nesting too deep", at);
        return this.map(this.count(r.arg, Limits.MAX_MAP_ENTRIES, "map", at), depth);
      }
      case 6: {
        const tag = r.arg;
        if (!this.opts.lenient && (r.big || !(this.opts.allowTags ?? []).includes(tag))) this.fail(Reason.MALFORMED, `tag ${tag} not allowed here`, at);
        return new CborTag(tag, this.value(depth));
      }
      default: {
        const ai = b[r.headStart] & 31;
        return ai === 20 ? false : ai === 21 ? true : null; // 22 null, 23 undefined -> null
      }
    }
  }

  private text(content: Uint8Array, at: number): string {
    if (this.opts.lenient) return lenientUtf8.decode(content);
    try {
      return strictUtf8.decode(content);
    } catch {
      return this.fail(Reason.MALFORMED, "text string is not UTF-8", at);
    }
  }

  // Strict: keys are integers or text, in deterministic order, unique. Lenient: entries
  // with other key types are read and dropped, order is not checked, the last duplicate wins.
  private map(n: number, depth: number): CborMap {
    const b = this.r.buf;
    const out: CborMap = new Map();
    let prevOff = -1;
    let prevLen = 0;
    for (let i = 0; i < n; i++) {
      const ks = this.r.pos;
      const k = this.value(depth + 1);
      const kl = this.r.pos - ks;
      const keyType = typeof k === "number" || typeof k === "string" || typeof k === "bigint";
      if (!this.opts.lenient) {
        // Key type before order, as the device's map walk checks them.
        if (!keyType) this.fail(Reason.MALFORMED, "map key neither an integer nor text", ks);
        if (prevOff >= 0 && compareBytes(b, prevOff, prevLen, b, ks, kl) >= 0) this.fail(Reason.NON_CANONICAL, "map keys not in deterministic order, or repeated", ks);
      }
      prevOff = ks;
      prevLen = kl;
      const v = this.value(depth + 1);
      if (keyType) out.set(k, v);
    }
    return out;
  }
}

function readBig(b: Uint8Array, headStart: number): bigint {
  let v = 0n;
  for (let i = 1; i <= 8; i++) v = (v << 8n) | BigInt(b[headStart + i]);
  return v;
}

/** Decodes the one CBOR item starting at `offset`; returns it and the offset just past it. */
export function decodeItem(bytes: Uint8Array, offset: number, opts: DecodeOptions = {}): { value: Cbor; end: number } {
  const d = new ValueDecoder(bytes, offset, opts);
  const value = d.value(0);
  return { value, end: d.pos };
}

/** Decodes exactly one CBOR item filling `bytes` (deterministic unless `opts.lenient`). */
export function decodeCanonical(bytes: Uint8Array, opts: DecodeOptions = {}): Cbor {
  const { value, end } = decodeItem(bytes, 0, opts);
  if (end !== bytes.length) throw new CborDecodeError(Reason.MALFORMED, "trailing bytes after CBOR item", end);
  return value;
}
