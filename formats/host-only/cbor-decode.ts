// Host-side strict decoder to JS values (normal TS), built on the device's CborReader so
// both sides accept exactly the same bytes. Throws CborDecodeError carrying the Reason code.
import { Cbor, CborMap, CborTag } from "./cbor-encode.js";
import { CborReader, CborMapWalk, MapKeys } from "../device-safe/cbor-reader.js";
import { Reason, reasonName } from "../device-safe/reasons.js";
import { Limits } from "../device-safe/limits.js";

export class CborDecodeError extends Error {
  readonly reason: number;
  constructor(reason: number, what: string) {
    super(`${what}: ${reasonName(reason)}`);
    this.reason = reason;
  }
}

export interface DecodeOptions {
  /** Tags accepted (at any position); default none. */
  allowTags?: number[];
}

// The integer whose head the reader just read (major 0 or 1), as a number when exact.
function intValue(r: CborReader): number | bigint {
  if (!r.big) return r.intValue();
  const v = readBig(r.buf, r.headStart);
  return r.major === 0 ? v : -1n - v;
}

function decodeText(b: Uint8Array, off: number, len: number): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(off, off + len));
  } catch {
    throw new CborDecodeError(Reason.MALFORMED, "CBOR text string is not UTF-8");
  }
}

// The map key the walk just read: an integer or a text string.
function keyValue(r: CborReader): number | bigint | string {
  return r.major === 3 ? decodeText(r.buf, r.dataOff, r.arg) : intValue(r);
}

function readValue(r: CborReader, depth: number, opts: DecodeOptions): Cbor {
  if (!r.head()) throw new CborDecodeError(r.err, "CBOR");
  const b = r.buf;
  switch (r.major) {
    case 0:
    case 1:
      return intValue(r);
    case 2:
      return b.slice(r.dataOff, r.dataOff + r.arg);
    case 3:
      return decodeText(b, r.dataOff, r.arg);
    case 4: {
      if (depth + 1 > Limits.MAX_DEPTH) throw new CborDecodeError(Reason.TOO_LARGE, "CBOR nesting");
      if (r.arg > Limits.MAX_ARRAY_ITEMS) throw new CborDecodeError(Reason.TOO_LARGE, "CBOR array");
      const n = r.arg;
      const out: Cbor[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1, opts));
      return out;
    }
    case 5: {
      if (depth + 1 > Limits.MAX_DEPTH) throw new CborDecodeError(Reason.TOO_LARGE, "CBOR nesting");
      if (r.arg > Limits.MAX_MAP_ENTRIES) throw new CborDecodeError(Reason.TOO_LARGE, "CBOR map");
      // The device's map walk: the same key order and key type rules as the device.
      const walk = new CborMapWalk(r);
      walk.beginAfterHead(r.arg, MapKeys.ANY);
      const out: CborMap = new Map();
      while (walk.next()) {
        out.set(keyValue(r), readValue(r, depth + 1, opts));
      }
      if (r.err !== 0) throw new CborDecodeError(r.err, "CBOR map");
      return out;
    }
    case 6: {
      const tag = r.arg;
      if (r.big || !(opts.allowTags ?? []).includes(tag)) throw new CborDecodeError(Reason.MALFORMED, `CBOR tag ${tag}`);
      return new CborTag(tag, readValue(r, depth, opts));
    }
    default: {
      const ai = b[r.headStart] & 31;
      return ai === 20 ? false : ai === 21 ? true : null; // 22 null, 23 undefined -> null
    }
  }
}

function readBig(b: Uint8Array, headStart: number): bigint {
  let v = 0n;
  for (let i = 1; i <= 8; i++) v = (v << 8n) | BigInt(b[headStart + i]);
  return v;
}

/** Decodes exactly one deterministic CBOR item filling `bytes`. */
export function decodeCanonical(bytes: Uint8Array, opts: DecodeOptions = {}): Cbor {
  const r = new CborReader();
  r.init(bytes, 0, bytes.length);
  const v = readValue(r, 0, opts);
  if (r.pos !== bytes.length) throw new CborDecodeError(Reason.MALFORMED, "trailing bytes after CBOR item");
  return v;
}
