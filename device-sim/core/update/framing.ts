// Serial framing (formats/PROTOCOL.md §2): every frame is
//   COBS( body || crc32le(body) ) || 0x00
// COBS removes every zero byte from the encoded data, so 0x00 is an unambiguous frame
// delimiter and a receiver resynchronises at the next zero after line noise. Overhead is
// one byte per 254 (0.4 %) plus the delimiter. Both buffers are allocated once, sized for
// the largest frame; a frame longer than that is dropped whole (the bytes are attacker-
// controlled: never write past the buffer).
//
// Speed matters on the device: every received byte passes through push(), on an MCU inside
// an interpreter (Duktape, Espruino) where each bytecode costs tens of instructions and a
// closure variable is looked up by name. So push() takes a whole buffer per call, keeps
// its state in locals (written back once at the end), has no function call per byte, and
// checks the CRC in the same pass that decodes: the register runs over the decoded bytes
// including the frame's own CRC field and must end at the CRC-32 residue (crc32.ts). A
// COBS run of 8 or more bytes is copied natively (set + subarray: one small view object
// per run, no buffer), leaving one loop of load, zero test and table CRC step per byte
// (a sentinel zero after the run spares the bounds test). A platform with native crc32 and
// findZero primitives (crypto/primitives.ts: C in the MCU firmware, E.CRC32 and indexOf on
// Espruino) gets no per-byte step at all: runs are scanned for a zero natively and the CRC is
// checked once per frame, at its delimiter (the same decision: body || crc32le(body) leaves
// the residue exactly when the field equals the body's CRC).
// Constrained TS: no exceptions, no allocation per frame.

import type { Primitives } from "../crypto/primitives.js";
import { crc32Table, CRC32_RESIDUE } from "./crc32.js";

export const FRAME_CRC_LEN = 4;

// Wire bytes needed for a body of n bytes (CRC, COBS codes, delimiter).
export function maxWireLen(n: number): number {
  const m = n + FRAME_CRC_LEN;
  return m + ((m / 254) | 0) + 2;
}

export interface FrameDecoder {
  // Decoded frame body (valid after push() returned a length >= 0, until the next push).
  frame: Uint8Array;
  // Frames dropped so far: CRC mismatch, too long, malformed COBS (diagnostics only).
  dropped: number;
  // Feed bytes; returns the body length of a complete, CRC-checked frame, or -1 when the
  // input was used up without one. `consumed` = bytes of this call used. Caller loops.
  push(buf: Uint8Array, off: number, len: number): number;
  consumed: number;
  reset(): void;
}

function pushStub(buf: Uint8Array, off: number, len: number): number {
  return -1;
}
function resetStub(): void {}

// maxBody = largest frame body accepted (without CRC); prims: a platform's primitives, of
// which the decoder uses crc32 and findZero when it has both.
export function createFrameDecoder(maxBody: number, prims?: Primitives): FrameDecoder {
  const cap = maxBody + FRAME_CRC_LEN;
  const data = new Uint8Array(cap + 1); // + the sentinel byte of push()
  const table = crc32Table();
  let crcNative: ((buf: Uint8Array, off: number, len: number) => number) | null = null;
  let zeroNative: ((buf: Uint8Array, from: number, to: number) => number) | null = null;
  if (prims && prims.crc32 && prims.findZero) {
    crcNative = prims.crc32;
    zeroNative = prims.findZero;
  }
  // Decoder state between calls (push() works on local copies).
  let sN = 0; // decoded bytes so far (body and CRC field)
  let sRem = 0; // data bytes left in the current COBS block
  let sPrev = 0; // code of the previous block (0 = no block yet)
  let sCrc = -1; // CRC register over the decoded bytes
  let sBad = 0; // 1: the frame overflowed the buffer: drop it at the delimiter

  // Filled in below (Espruino does not hoist function declarations).
  const dec: FrameDecoder = { frame: data.subarray(0, cap), dropped: 0, consumed: 0, push: pushStub, reset: resetStub };

  function reset(): void {
    sN = 0;
    sRem = 0;
    sPrev = 0;
    sCrc = -1;
    sBad = 0;
  }

  // The CRC check of a complete frame of n decoded bytes (body, then the CRC field little-
  // endian): natively once, or the residue of the register c run over all n bytes.
  function crcOk(n: number, c: number): boolean {
    if (crcNative === null) return c === CRC32_RESIDUE;
    const d = data;
    const o = n - FRAME_CRC_LEN;
    const field = (d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24)) >>> 0;
    return crcNative(d, 0, o) >>> 0 === field;
  }

  function push(buf: Uint8Array, off: number, len: number): number {
    const d = data;
    const t = table;
    const cp = cap;
    const fz = zeroNative;
    let n = sN;
    let rem = sRem;
    let prev = sPrev;
    let c = sCrc;
    let bad = sBad;
    let i = off;
    const end = off + len;
    let result = -1;
    while (i < end) {
      if (rem !== 0) {
        // Data bytes of the current block, up to its end or the end of the input.
        let stop = i + rem;
        if (stop > end) stop = end;
        const start = i;
        if (bad === 0 && n + stop - i <= cp) {
          if (stop - i >= 8) {
            // A long run (the usual case): native copy, then one pass for the CRC and the
            // zero test. A sentinel zero after the run (d has one spare byte) ends that
            // loop without a bounds test per byte. Bytes past n are scratch.
            d.set(buf.subarray(i, stop), n);
            d[n + stop - i] = 0;
            let k = n;
            if (fz !== null) {
              k = fz(d, n, n + stop - i);
            } else {
              let b = d[k];
              while (b !== 0) {
                c = t[(c ^ b) & 0xff] ^ (c >>> 8);
                k++;
                b = d[k];
              }
            }
            i += k - n;
            n = k;
          } else if (fz !== null) {
            // A short run on a platform with the native scans: the CRC waits for the delimiter.
            while (i < stop) {
              const b = buf[i];
              if (b === 0) break;
              d[n] = b;
              n++;
              i++;
            }
          } else {
            // A short run (zero-dense data): the view would cost more than it saves.
            while (i < stop) {
              const b = buf[i];
              if (b === 0) break;
              d[n] = b;
              c = t[(c ^ b) & 0xff] ^ (c >>> 8);
              n++;
              i++;
            }
          }
        } else {
          bad = 1; // too long: only look for the delimiter
          while (i < stop && buf[i] !== 0) i++;
        }
        rem -= i - start;
        if (i < stop) {
          // A delimiter inside a block: the frame is cut short. Drop it; the next starts here.
          i++;
          dec.dropped++;
          n = 0;
          rem = 0;
          prev = 0;
          c = -1;
          bad = 0;
        }
      } else {
        const b = buf[i];
        i++;
        if (b === 0) {
          // Delimiter. Back-to-back delimiters (an empty frame) are ignored silently.
          if (n !== 0 || prev !== 0) {
            if (bad === 0 && n > FRAME_CRC_LEN && crcOk(n, c)) result = n - FRAME_CRC_LEN;
            else dec.dropped++;
          }
          n = 0;
          prev = 0;
          c = -1;
          bad = 0;
          if (result >= 0) break;
        } else {
          // A code byte: the zero that ended the previous block (unless it was a full
          // 254-byte block) is part of the data.
          if (prev !== 0 && prev !== 0xff) {
            if (n < cp) {
              d[n] = 0;
              if (fz === null) c = t[c & 0xff] ^ (c >>> 8);
              n++;
            } else {
              bad = 1;
            }
          }
          prev = b;
          rem = b - 1;
        }
      }
    }
    sN = n;
    sRem = rem;
    sPrev = prev;
    sCrc = c;
    sBad = bad;
    dec.consumed = i - off;
    return result;
  }

  dec.push = push;
  dec.reset = reset;
  return dec;
}

export interface FrameEncoder {
  // Write the body into `body` (capacity maxBody), then call encode(bodyLen).
  body: Uint8Array;
  // Encoded frame (valid after encode(), until the next encode()).
  wire: Uint8Array;
  // Appends the CRC, COBS-encodes, appends the delimiter; returns the wire length.
  encode(bodyLen: number): number;
}

export function createFrameEncoder(maxBody: number): FrameEncoder {
  const body = new Uint8Array(maxBody + FRAME_CRC_LEN);
  const wire = new Uint8Array(maxWireLen(maxBody));
  const table = crc32Table();

  function encode(bodyLen: number): number {
    const bd = body;
    const w = wire;
    const t = table;
    let c = -1;
    for (let i = 0; i < bodyLen; i++) c = t[(c ^ bd[i]) & 0xff] ^ (c >>> 8);
    c = ~c;
    bd[bodyLen] = c & 0xff;
    bd[bodyLen + 1] = (c >>> 8) & 0xff;
    bd[bodyLen + 2] = (c >>> 16) & 0xff;
    bd[bodyLen + 3] = (c >>> 24) & 0xff;
    const total = bodyLen + FRAME_CRC_LEN;
    let codePos = 0;
    let out = 1;
    let code = 1;
    for (let i = 0; i < total; i++) {
      const b = bd[i];
      if (b !== 0) {
        w[out] = b;
        out++;
        code++;
        if (code !== 0xff) continue;
      }
      // End of a block: a zero in the data, or 254 data bytes.
      w[codePos] = code;
      codePos = out;
      out++;
      code = 1;
    }
    w[codePos] = code;
    w[out] = 0;
    return out + 1;
  }

  return { body: body, wire: wire, encode: encode };
}
