// Serial framing (formats/PROTOCOL.md §2): every frame is
//   COBS( body || crc32le(body) ) || 0x00
// COBS removes every zero byte from the encoded data, so 0x00 is an unambiguous frame
// delimiter and a receiver resynchronises at the next zero after line noise. Overhead is
// one byte per 254 (0.4 %) plus the delimiter. Both buffers are allocated once, sized for
// the largest frame; a frame longer than that is dropped whole (the bytes are attacker-
// controlled: never write past the buffer).
// Constrained TS: no exceptions, no allocation per frame.

import { crc32 } from "./crc32.js";

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

// maxBody = largest frame body accepted (without CRC).
export function createFrameDecoder(maxBody: number): FrameDecoder {
  const cap = maxBody + FRAME_CRC_LEN;
  const data = new Uint8Array(cap);
  let n = 0; // decoded bytes so far
  let remaining = 0; // data bytes left in the current COBS block
  let prevCode = 0; // code of the previous block (0 = no block yet)
  let bad = false; // frame overflowed or is malformed: drop at the delimiter


  // Filled in below (Espruino does not hoist function declarations).
  const dec: FrameDecoder = { frame: data, dropped: 0, consumed: 0, push: pushStub, reset: resetStub };

  function reset(): void {
    n = 0;
    remaining = 0;
    prevCode = 0;
    bad = false;
  }

  function put(b: number): void {
    if (n < cap) {
      data[n] = b;
      n++;
    } else {
      bad = true;
    }
  }

  // Delimiter seen: returns body length or -1.
  function finish(): number {
    let result = -1;
    if (n === 0 && prevCode === 0) {
      result = -1; // empty frame (back-to-back delimiters): ignore silently
    } else if (bad || remaining !== 0 || n < FRAME_CRC_LEN + 1) {
      dec.dropped++;
    } else {
      const bodyLen = n - FRAME_CRC_LEN;
      const want = (data[bodyLen] | (data[bodyLen + 1] << 8) | (data[bodyLen + 2] << 16) | (data[bodyLen + 3] << 24)) >>> 0;
      if (crc32(data, 0, bodyLen) === want) {
        result = bodyLen;
      } else {
        dec.dropped++;
      }
    }
    reset();
    return result;
  }

  function push(buf: Uint8Array, off: number, len: number): number {
    let i = 0;
    while (i < len) {
      const b = buf[off + i];
      i++;
      if (b === 0) {
        const r = finish();
        if (r >= 0) {
          dec.consumed = i;
          return r;
        }
      } else if (remaining === 0) {
        if (prevCode !== 0 && prevCode !== 0xff) put(0);
        prevCode = b;
        remaining = b - 1;
      } else {
        put(b);
        remaining--;
      }
    }
    dec.consumed = len;
    return -1;
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

  function encode(bodyLen: number): number {
    const c = crc32(body, 0, bodyLen);
    body[bodyLen] = c & 0xff;
    body[bodyLen + 1] = (c >>> 8) & 0xff;
    body[bodyLen + 2] = (c >>> 16) & 0xff;
    body[bodyLen + 3] = (c >>> 24) & 0xff;
    const total = bodyLen + FRAME_CRC_LEN;
    let codePos = 0;
    let out = 1;
    let code = 1;
    for (let i = 0; i < total; i++) {
      const b = body[i];
      if (b === 0) {
        wire[codePos] = code;
        codePos = out;
        out++;
        code = 1;
      } else {
        wire[out] = b;
        out++;
        code++;
        if (code === 0xff) {
          wire[codePos] = code;
          codePos = out;
          out++;
          code = 1;
        }
      }
    }
    wire[codePos] = code;
    wire[out] = 0;
    return out + 1;
  }

  return { body: body, wire: wire, encode: encode };
}
