// Deterministic CBOR encoder (RFC 8949 §4.2.1 "core deterministic encoding") for the host.
// Normal TypeScript (not device code). Shortest-form heads, definite lengths, map keys
// sorted by the bytewise order of their encodings, duplicate keys rejected, no floats.

/** A CBOR value as the host builds it. Maps are JS `Map`s (integer or text keys). */
export type Cbor =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | Cbor[]
  | CborMap
  | CborTag
  | CborRaw;

export type CborMap = Map<number | bigint | string, Cbor>;

/** A tagged item, e.g. `new CborTag(18, [...])` for COSE_Sign1. */
export class CborTag {
  readonly tag: number;
  readonly value: Cbor;
  constructor(tag: number, value: Cbor) {
    this.tag = tag;
    this.value = value;
  }
}

/** Bytes that are already one encoded CBOR item (e.g. a certificate), embedded verbatim. */
export class CborRaw {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

const TWO_64 = 1n << 64n;

class ByteSink {
  private buf = new Uint8Array(256);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.grow(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeHead(out: ByteSink, major: number, arg: bigint): void {
  const m = major << 5;
  if (arg < 0n || arg >= TWO_64) throw new RangeError(`CBOR argument out of range: ${arg}`);
  if (arg < 24n) {
    out.byte(m | Number(arg));
  } else if (arg < 0x100n) {
    out.byte(m | 24);
    out.byte(Number(arg));
  } else if (arg < 0x10000n) {
    out.byte(m | 25);
    const v = Number(arg);
    out.byte(v >>> 8);
    out.byte(v & 0xff);
  } else if (arg < 0x100000000n) {
    out.byte(m | 26);
    const v = Number(arg);
    out.byte(v >>> 24);
    out.byte((v >>> 16) & 0xff);
    out.byte((v >>> 8) & 0xff);
    out.byte(v & 0xff);
  } else {
    out.byte(m | 27);
    for (let s = 56n; s >= 0n; s -= 8n) out.byte(Number((arg >> s) & 0xffn));
  }
}

/** Encodes one head (major type 0..7, argument) in shortest form. */
export function encodeHead(major: number, arg: number | bigint): Uint8Array {
  const s = new ByteSink();
  writeHead(s, major, BigInt(arg));
  return s.result();
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function writeInt(out: ByteSink, v: bigint): void {
  if (v >= 0n) writeHead(out, 0, v);
  else writeHead(out, 1, -1n - v);
}

function writeItem(out: ByteSink, v: Cbor, depth: number): void {
  if (depth > 64) throw new RangeError("CBOR nesting too deep");
  if (typeof v === "number") {
    // Integers whose CBOR argument is exact in a double: -2^53 .. 2^53.
    if (!Number.isInteger(v) || Math.abs(v) > 9007199254740992) throw new RangeError(`CBOR: only integers within ±2^53 are encodable as numbers, got ${v}`);
    writeInt(out, BigInt(v));
  } else if (typeof v === "bigint") {
    writeInt(out, v);
  } else if (typeof v === "string") {
    const b = new TextEncoder().encode(v);
    writeHead(out, 3, BigInt(b.length));
    out.bytes(b);
  } else if (typeof v === "boolean") {
    out.byte(v ? 0xf5 : 0xf4);
  } else if (v === null) {
    out.byte(0xf6);
  } else if (v instanceof Uint8Array) {
    writeHead(out, 2, BigInt(v.length));
    out.bytes(v);
  } else if (Array.isArray(v)) {
    writeHead(out, 4, BigInt(v.length));
    for (const x of v) writeItem(out, x, depth + 1);
  } else if (v instanceof Map) {
    const entries: { k: Uint8Array; v: Uint8Array }[] = [];
    for (const [k, val] of v) {
      const ks = new ByteSink();
      writeItem(ks, k, depth + 1);
      const vs = new ByteSink();
      writeItem(vs, val, depth + 1);
      entries.push({ k: ks.result(), v: vs.result() });
    }
    entries.sort((a, b) => compareBytes(a.k, b.k));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1].k, entries[i].k) === 0) throw new Error("CBOR: duplicate map key");
    }
    writeHead(out, 5, BigInt(entries.length));
    for (const e of entries) {
      out.bytes(e.k);
      out.bytes(e.v);
    }
  } else if (v instanceof CborTag) {
    writeHead(out, 6, BigInt(v.tag));
    writeItem(out, v.value, depth + 1);
  } else if (v instanceof CborRaw) {
    out.bytes(v.bytes);
  } else {
    throw new TypeError("CBOR: unsupported value type");
  }
}

/** Deterministic (RFC 8949 §4.2.1) encoding of `value`. Throws on floats / duplicate keys. */
export function encodeCanonical(value: Cbor): Uint8Array {
  const out = new ByteSink();
  writeItem(out, value, 0);
  return out.result();
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const r = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    r.set(p, o);
    o += p.length;
  }
  return r;
}
