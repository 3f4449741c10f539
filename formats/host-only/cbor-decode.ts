// Host-side strict decoder to JS values (normal TS), built on the device's CborReader so
// both sides accept exactly the same bytes. Throws CborDecodeError carrying the Reason code.
import { Cbor, CborMap, CborTag } from "./cbor-encode.js";
import { CborReader } from "../device-safe/cbor-reader.js";
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

function readValue(r: CborReader, depth: number, opts: DecodeOptions): Cbor {
  if (!r.head()) throw new CborDecodeError(r.err, "CBOR");
  const b = r.buf;
  switch (r.major) {
    case 0:
      return r.big ? readBig(b, r.headStart) : r.arg;
    case 1:
      return r.big ? -1n - readBig(b, r.headStart) : -1 - r.arg;
    case 2:
      return b.slice(r.dataOff, r.dataOff + r.arg);
    case 3: {
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(r.dataOff, r.dataOff + r.arg));
      } catch {
        throw new CborDecodeError(Reason.MALFORMED, "CBOR text string is not UTF-8");
      }
    }
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
      const n = r.arg;
      const out: CborMap = new Map();
      let prevOff = -1;
      let prevLen = 0;
      for (let i = 0; i < n; i++) {
        const ks = r.pos;
        const k = readValue(r, depth + 1, opts);
        const kl = r.pos - ks;
        if (prevOff >= 0) {
          let c = 0;
          const m = Math.min(prevLen, kl);
          for (let j = 0; j < m && c === 0; j++) c = b[prevOff + j] - b[ks + j];
          if (c === 0) c = prevLen - kl;
          if (c >= 0) throw new CborDecodeError(Reason.NON_CANONICAL, "CBOR map keys");
        }
        prevOff = ks;
        prevLen = kl;
        if (typeof k !== "number" && typeof k !== "string" && typeof k !== "bigint")
          throw new CborDecodeError(Reason.MALFORMED, "CBOR map key type");
        out.set(k, readValue(r, depth + 1, opts));
      }
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
