// Inputs and references for the payload decoder tests (SPEC §15): firmware-like images,
// chunked raw deflate by node:zlib, a patch encoder and an independent whole-buffer patch
// applier, and a driver that runs the device decoder over a list of wire chunks.
import { deflateRawSync, constants as zc } from "node:zlib";
import { PayloadDecoder } from "../../device-sim/core/decode/payload-decoder.js";
import type { PayloadParams, PayloadSink } from "../../device-sim/core/decode/payload-decoder.js";
import { Reason } from "../../formats/device-safe/reasons.js";

/** xorshift32 stream: deterministic pseudo-random integers for test inputs. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Pseudo-random bytes (incompressible). */
export function randomBytes(size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = r() & 255;
  return out;
}

const WORDS = ["sensor", "update", "error", "timeout", "flash", "page", "erase", "write", "boot", "slot", "init",
  "uart", "spi", "i2c", "adc", "config", "value", "ready", "failed", "retry", "version", "%d", "%s", "0x%08x", "\n"];

/** ASCII text made of log-message words. */
export function textBytes(size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  let i = 0;
  while (i < size) {
    const w = WORDS[r() % WORDS.length] + (r() % 3 === 0 ? ": " : " ");
    for (let k = 0; k < w.length && i < size; k++) out[i++] = w.charCodeAt(k);
  }
  return out;
}

/**
 * A Cortex-M-like image: a vector table of odd (Thumb) handler addresses, functions of
 * 16-bit Thumb opcodes from a small vocabulary (push/pop, mov, ldr, add, cmp, branches, bl
 * pairs) with literal pools of peripheral and RAM addresses, then NUL-terminated strings,
 * then an erased (0xff) tail.
 */
export function firmwareLikeImage(size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  let i = 0;
  const put16 = (v: number) => { if (i + 1 < size) { out[i] = v & 255; out[i + 1] = (v >>> 8) & 255; } i += 2; };
  const put32 = (v: number) => { put16(v & 0xffff); put16(v >>> 16); };
  put32(0x20008000);
  for (let v = 1; v < 48 && i < size; v++) put32(0x08000101 + (r() % 64) * 0x40);
  const codeEnd = Math.floor(size * 0.7);
  const ops = [0x4600, 0x6800, 0x6000, 0x3000, 0x2800, 0xd000, 0xe000, 0x4400, 0x1c00, 0x0040, 0x4010, 0x7800];
  while (i < codeEnd) {
    put16(0xb500 | (r() & 0xf0));
    const n = 6 + (r() % 40);
    for (let k = 0; k < n && i < codeEnd; k++) {
      const t = r() % 16;
      if (t < 11) put16(ops[r() % ops.length] | (r() & 0x3f));
      else if (t < 13) { put16(0xf000 | (r() & 0x7ff)); put16(0xf800 | (r() & 0x7ff)); } // bl
      else put16(0x4800 | (r() & 0x7ff)); // ldr rX, [pc, #imm]
    }
    put16(0xbd00 | (r() & 0xf0));
    if (r() % 3 === 0) {
      if (i & 2) put16(0xbf00); // nop to align the pool
      const m = 1 + (r() % 4);
      for (let k = 0; k < m; k++) put32((r() % 2 === 0 ? 0x40000000 : 0x20000000) + (r() % 4096) * 4);
    }
  }
  i = codeEnd;
  const strEnd = Math.floor(size * 0.85);
  const text = textBytes(strEnd - codeEnd, seed + 1);
  for (let k = 0; k < text.length; k++) out[i + k] = (r() % 24 === 0) ? 0 : text[k];
  out.fill(0xff, strEnd);
  return out;
}

/** node:zlib raw deflate options the tests vary. */
export interface DeflateOpts { level: number; windowBits: number; strategy?: number; memLevel?: number; dictionary?: Uint8Array }

/** One raw deflate stream of data (node:zlib, memLevel 9 unless given). */
export function deflate(data: Uint8Array, o: DeflateOpts): Uint8Array {
  return new Uint8Array(deflateRawSync(data, {
    level: o.level, windowBits: o.windowBits, memLevel: o.memLevel ?? 9, strategy: o.strategy ?? zc.Z_DEFAULT_STRATEGY,
    ...(o.dictionary ? { dictionary: o.dictionary } : {}),
  }));
}

/** Wire chunk data of codec 1: each `piece` bytes of data deflated on its own, plus `pad` zero bytes. */
export function deflateChunks(data: Uint8Array, piece: number, o: DeflateOpts, pad = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < data.length; p += piece) {
    const d = deflate(data.subarray(p, Math.min(data.length, p + piece)), o);
    const c = new Uint8Array(d.length + pad);
    c.set(d);
    out.push(c);
  }
  return out;
}

/** Cuts a byte stream into chunks at the given sizes (cycled), for codec 0. */
export function cut(stream: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  let k = 0;
  while (p < stream.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]);
    out.push(stream.subarray(p, Math.min(stream.length, p + n)));
    p += n;
  }
  return out;
}

/** One patch record: copy-len precursor bytes (0 when absent), add-len diff bytes, literal bytes, then seek. */
export interface PatchRecord { copy?: number; diff: Uint8Array; literal: Uint8Array; seek: number }

/** LEB128 of an unsigned value < 2^32. */
export function uvarint(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** LEB128 of the zigzag value of a signed 32-bit value. */
export function svarint(n: number): number[] {
  return uvarint(n >= 0 ? 2 * n : -2 * n - 1);
}

/** The patch stream of the records. */
export function encodePatch(records: PatchRecord[]): Uint8Array {
  const bytes: number[] = [];
  for (const rec of records) {
    bytes.push(...uvarint(rec.copy ?? 0), ...uvarint(rec.diff.length), ...uvarint(rec.literal.length), ...svarint(rec.seek));
    for (const b of rec.diff) bytes.push(b);
    for (const b of rec.literal) bytes.push(b);
  }
  return new Uint8Array(bytes);
}

/**
 * Reference patch applier over whole buffers (written apart from the device interpreter):
 * parses each record's header, checks its copy-and-add range and the pos after its seek, then
 * applies it. Returns the image, or the reason name. imageSize < 0: no size check (the image,
 * whatever its length).
 */
export function applyPatchReference(old: Uint8Array, patch: Uint8Array, imageSize: number): Uint8Array | string {
  let p = 0;
  const readVar = (): number | null => {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      if (p >= patch.length) return null;
      const b = patch[p++];
      v += (b & 127) * 2 ** (7 * k);
      if ((b & 128) === 0) return v < 2 ** 32 ? v : -1;
    }
    return -1;
  };
  const out: number[] = [];
  const emit = (b: number): boolean => {
    if (imageSize >= 0 && out.length >= imageSize) return false;
    out.push(b);
    return true;
  };
  let pos = 0;
  while (p < patch.length) {
    // A header field: null = the patch ended inside it, -1 = a bad varint (both BAD_PAYLOAD).
    const fields: number[] = [];
    for (let f = 0; f < 4; f++) {
      const v = readVar();
      if (v === null || v < 0) return "BAD_PAYLOAD";
      fields.push(v);
    }
    const [copy, add, ins, z] = fields;
    const seek = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (copy + add > 0 && (pos < 0 || pos + copy + add > old.length)) return "BAD_PAYLOAD";
    if (pos + copy + add + seek < -(2 ** 31) || pos + copy + add + seek >= 2 ** 31) return "BAD_PAYLOAD";
    for (let k = 0; k < copy; k++) if (!emit(old[pos++])) return "RESULT_MISMATCH";
    for (let k = 0; k < add; k++) {
      if (p >= patch.length) return "BAD_PAYLOAD";
      if (!emit((old[pos++] + patch[p++]) & 255)) return "RESULT_MISMATCH";
    }
    for (let k = 0; k < ins; k++) {
      if (p >= patch.length) return "BAD_PAYLOAD";
      if (!emit(patch[p++])) return "RESULT_MISMATCH";
    }
    pos += seek;
  }
  if (imageSize >= 0 && out.length !== imageSize) return "RESULT_MISMATCH";
  return new Uint8Array(out);
}

/**
 * Random valid patch records from old toward a new image: copies and adds inside old (a copy on
 * about half of them), literals, seeks anywhere.
 */
export function randomRecords(old: Uint8Array, count: number, seed: number): PatchRecord[] {
  const r = rng(seed);
  const recs: PatchRecord[] = [];
  let pos = 0;
  for (let k = 0; k < count; k++) {
    // Next copy-and-add range: start somewhere inside old (the previous seek moves pos there).
    const span = Math.min(600, old.length);
    const copy = r() % 2 === 0 ? r() % span : 0;
    const addLen = r() % 4 === 0 ? 0 : r() % (span - copy + 1);
    const start = r() % (old.length - copy - addLen + 1);
    const diff = new Uint8Array(addLen);
    for (let j = 0; j < addLen; j++) diff[j] = r() % 5 === 0 ? r() & 255 : 0;
    const literal = randomBytes(r() % 5 === 0 ? r() % 300 : r() % 8, r());
    // The previous record's seek (or a leading empty record's) moves pos to `start`.
    if (recs.length > 0) recs[recs.length - 1].seek = start - pos;
    else if (start !== 0) recs.push({ diff: new Uint8Array(0), literal: new Uint8Array(0), seek: start });
    recs.push({ copy, diff, literal, seek: 0 });
    pos = start + copy + addLen;
  }
  recs[recs.length - 1].seek = (r() % 2000) - 1000;
  return recs;
}

/** A sink that collects the image and reads the precursor from a buffer. */
export class CollectSink implements PayloadSink {
  parts: Uint8Array[] = [];
  length = 0;
  constructor(public precursor: Uint8Array = new Uint8Array(0)) {}
  output(buf: Uint8Array, off: number, len: number): void {
    this.parts.push(buf.slice(off, off + len));
    this.length += len;
  }
  readPrecursor(pos: number, buf: Uint8Array, off: number, len: number): void {
    if (pos < 0 || pos + len > this.precursor.length) throw new Error("precursor read out of range: " + pos + "+" + len);
    buf.set(this.precursor.subarray(pos, pos + len), off);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const b of this.parts) { out.set(b, p); p += b.length; }
    return out;
  }
}

/** Result of decoding a chunk list: reason of the first failing step (or of finish) and the output. */
export interface DecodeResult { reason: number; failedAt: number; output: Uint8Array; states: Uint8Array[]; outPos: number[] }

/**
 * Runs a fresh PayloadDecoder(maxWindowBits) over the chunks, then finish(). failedAt: the
 * chunk index of the first non-OK chunk, chunks.length for finish, -1 when all is OK.
 * states/outPos: the saved state and outPos at each chunk boundary (before chunk k).
 */
export function decodeChunks(chunks: Uint8Array[], p: PayloadParams, maxWindowBits: number, precursor?: Uint8Array): DecodeResult {
  const d = new PayloadDecoder(maxWindowBits);
  const sink = new CollectSink(precursor);
  const states: Uint8Array[] = [];
  const outPos: number[] = [];
  let reason = d.start(p);
  if (reason !== Reason.OK) return { reason, failedAt: -2, output: sink.bytes(), states, outPos };
  for (let k = 0; k < chunks.length; k++) {
    const st = new Uint8Array(32);
    d.saveState(st, 0);
    states.push(st);
    outPos.push(d.outPos);
    // Chunk data at a non-zero offset inside a larger buffer, as a device's receive buffer.
    const buf = new Uint8Array(chunks[k].length + 5);
    buf.set(chunks[k], 3);
    reason = d.chunk(buf, 3, chunks[k].length, sink);
    if (reason !== Reason.OK) return { reason, failedAt: k, output: sink.bytes(), states, outPos };
  }
  reason = d.finish();
  return { reason, failedAt: reason === Reason.OK ? -1 : chunks.length, output: sink.bytes(), states, outPos };
}
