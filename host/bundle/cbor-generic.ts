// A small generic CBOR decoder for `fwseal inspect`: turns one data item into plain JS
// values (Map for maps, CborTagged for tags, Uint8Array for byte strings) and reports
// where it ended. It is deliberately lenient about canonical form: inspect shows what is
// there; the verdict comes only from the device core's verifier. Attacker-controlled input:
// every length is checked against the buffer and nesting is bounded.
export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue
  ) {}
}

export type CborValue = number | bigint | string | boolean | null | undefined | Uint8Array | CborValue[] | Map<CborValue, CborValue> | CborTagged;

export class CborDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number
  ) {
    super(message);
    this.name = "CborDecodeError";
  }
}

const MAX_NEST = 32;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Decode the item starting at `offset`; returns the value and the offset just past it. */
export function decodeItem(buf: Uint8Array, offset = 0): { value: CborValue; end: number } {
  let pos = offset;

  function need(n: number): void {
    if (n < 0 || pos + n > buf.length) throw new CborDecodeError("truncated CBOR item", pos);
  }

  function readArg(ai: number): number | bigint {
    if (ai < 24) return ai;
    if (ai === 24) {
      need(1);
      return buf[pos++];
    }
    if (ai === 25) {
      need(2);
      const v = (buf[pos] << 8) | buf[pos + 1];
      pos += 2;
      return v;
    }
    if (ai === 26) {
      need(4);
      const v = ((buf[pos] << 24) >>> 0) + (buf[pos + 1] << 16) + (buf[pos + 2] << 8) + buf[pos + 3];
      pos += 4;
      return v;
    }
    if (ai === 27) {
      need(8);
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(buf[pos + i]);
      pos += 8;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    throw new CborDecodeError(ai === 31 ? "indefinite length not supported" : `reserved additional info ${ai}`, pos - 1);
  }

  function asLength(v: number | bigint): number {
    if (typeof v === "bigint" || v > buf.length) throw new CborDecodeError("length exceeds input", pos);
    return v;
  }

  function item(depth: number): CborValue {
    if (depth > MAX_NEST) throw new CborDecodeError("nesting too deep", pos);
    need(1);
    const ib = buf[pos++];
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0:
        return readArg(ai);
      case 1: {
        const v = readArg(ai);
        return typeof v === "bigint" ? -1n - v : -1 - v;
      }
      case 2: {
        const n = asLength(readArg(ai));
        need(n);
        const b = buf.slice(pos, pos + n);
        pos += n;
        return b;
      }
      case 3: {
        const n = asLength(readArg(ai));
        need(n);
        const s = utf8.decode(buf.subarray(pos, pos + n));
        pos += n;
        return s;
      }
      case 4: {
        const n = asLength(readArg(ai));
        const a: CborValue[] = [];
        for (let i = 0; i < n; i++) a.push(item(depth + 1));
        return a;
      }
      case 5: {
        const n = asLength(readArg(ai));
        const m = new Map<CborValue, CborValue>();
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          m.set(k, item(depth + 1));
        }
        return m;
      }
      case 6: {
        const t = readArg(ai);
        return new CborTagged(Number(t), item(depth + 1));
      }
      default: {
        if (ai === 20) return false;
        if (ai === 21) return true;
        if (ai === 22) return null;
        if (ai === 23) return undefined;
        throw new CborDecodeError("floating point or simple value not supported", pos - 1);
      }
    }
  }

  const value = item(0);
  return { value, end: pos };
}

/** Decode a buffer holding exactly one item. */
export function decodeOne(buf: Uint8Array): CborValue {
  const { value, end } = decodeItem(buf, 0);
  if (end !== buf.length) throw new CborDecodeError("trailing bytes after CBOR item", end);
  return value;
}
