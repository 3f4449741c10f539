// SHA-256 (FIPS 180-4) in constrained TS: no allocation per call, 32-bit integer math with
// shifts and `| 0` only (no Math.imul), typed arrays only indexed, set and subarray.
// One-shot `sha256(buf, off, len, out)` plus an incremental `Sha256` (init/update/final)
// whose state lives in typed arrays created once per instance.

import { MdBuffer, writeWordsBE } from "./md-buffer.js";

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// Compress `nblocks` 64-byte blocks of buf starting at pos into state st (8 words).
//
// Shaped for interpreters (Duktape on the MCU, Espruino), where the cost is roughly the
// number of bytecode operations, and property reads are the dearest of them:
// - the message schedule lives in 16 locals w0..w15 (a rolling window: W[t] overwrites
//   W[t-16]), so the only typed-array reads per round are the input bytes and k[i + r];
// - 16 rounds per loop pass, with the roles of a..h rotating through the variables instead
//   of being shuffled; the temporary T1 is built in the variable that held h (dead after);
// - Maj(a,b,c) = b ^ ((a ^ b) & (b ^ c)), where b ^ c is the previous round's a ^ b (x / y);
// - one `| 0` per round (on T1): every value then stays within +-2^34 (a = T1 + S0 + Maj,
//   e = d + T1 with d an earlier a), so sums are exact fastints on Duktape (48-bit) and
//   the bitwise operators' ToInt32 gives the right 32-bit words; W and the state are
//   kept as int32.
// npm run bench:mcu: 2.86e6 guest instructions per KiB, against 4.47e6 for the same rounds
// with a 64-word schedule in an Int32Array.
function compress256(st: Int32Array, buf: Uint8Array, pos: number, nblocks: number): void {
  const k = K256;
  let h0 = st[0], h1 = st[1], h2 = st[2], h3 = st[3], h4 = st[4], h5 = st[5], h6 = st[6], h7 = st[7];
  let a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, x = 0, y = 0, i = 0;
  let w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0, w8 = 0, w9 = 0, w10 = 0, w11 = 0, w12 = 0, w13 = 0, w14 = 0, w15 = 0;
  while (nblocks > 0) {
    w0 = buf[pos] << 24 | buf[pos + 1] << 16 | buf[pos + 2] << 8 | buf[pos + 3];
    w1 = buf[pos + 4] << 24 | buf[pos + 5] << 16 | buf[pos + 6] << 8 | buf[pos + 7];
    w2 = buf[pos + 8] << 24 | buf[pos + 9] << 16 | buf[pos + 10] << 8 | buf[pos + 11];
    w3 = buf[pos + 12] << 24 | buf[pos + 13] << 16 | buf[pos + 14] << 8 | buf[pos + 15];
    w4 = buf[pos + 16] << 24 | buf[pos + 17] << 16 | buf[pos + 18] << 8 | buf[pos + 19];
    w5 = buf[pos + 20] << 24 | buf[pos + 21] << 16 | buf[pos + 22] << 8 | buf[pos + 23];
    w6 = buf[pos + 24] << 24 | buf[pos + 25] << 16 | buf[pos + 26] << 8 | buf[pos + 27];
    w7 = buf[pos + 28] << 24 | buf[pos + 29] << 16 | buf[pos + 30] << 8 | buf[pos + 31];
    w8 = buf[pos + 32] << 24 | buf[pos + 33] << 16 | buf[pos + 34] << 8 | buf[pos + 35];
    w9 = buf[pos + 36] << 24 | buf[pos + 37] << 16 | buf[pos + 38] << 8 | buf[pos + 39];
    w10 = buf[pos + 40] << 24 | buf[pos + 41] << 16 | buf[pos + 42] << 8 | buf[pos + 43];
    w11 = buf[pos + 44] << 24 | buf[pos + 45] << 16 | buf[pos + 46] << 8 | buf[pos + 47];
    w12 = buf[pos + 48] << 24 | buf[pos + 49] << 16 | buf[pos + 50] << 8 | buf[pos + 51];
    w13 = buf[pos + 52] << 24 | buf[pos + 53] << 16 | buf[pos + 54] << 8 | buf[pos + 55];
    w14 = buf[pos + 56] << 24 | buf[pos + 57] << 16 | buf[pos + 58] << 8 | buf[pos + 59];
    w15 = buf[pos + 60] << 24 | buf[pos + 61] << 16 | buf[pos + 62] << 8 | buf[pos + 63];
    a = h0; b = h1; c = h2; d = h3; e = h4; f = h5; g = h6; h = h7;
    y = b ^ c;
    for (i = 0; i < 64; i += 16) {
      if (i > 0) {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], in place in the 16-word window
        w0 = (w0 + ((w1 >>> 7 | w1 << 25) ^ (w1 >>> 18 | w1 << 14) ^ w1 >>> 3) + w9 + ((w14 >>> 17 | w14 << 15) ^ (w14 >>> 19 | w14 << 13) ^ w14 >>> 10)) | 0;
        w1 = (w1 + ((w2 >>> 7 | w2 << 25) ^ (w2 >>> 18 | w2 << 14) ^ w2 >>> 3) + w10 + ((w15 >>> 17 | w15 << 15) ^ (w15 >>> 19 | w15 << 13) ^ w15 >>> 10)) | 0;
        w2 = (w2 + ((w3 >>> 7 | w3 << 25) ^ (w3 >>> 18 | w3 << 14) ^ w3 >>> 3) + w11 + ((w0 >>> 17 | w0 << 15) ^ (w0 >>> 19 | w0 << 13) ^ w0 >>> 10)) | 0;
        w3 = (w3 + ((w4 >>> 7 | w4 << 25) ^ (w4 >>> 18 | w4 << 14) ^ w4 >>> 3) + w12 + ((w1 >>> 17 | w1 << 15) ^ (w1 >>> 19 | w1 << 13) ^ w1 >>> 10)) | 0;
        w4 = (w4 + ((w5 >>> 7 | w5 << 25) ^ (w5 >>> 18 | w5 << 14) ^ w5 >>> 3) + w13 + ((w2 >>> 17 | w2 << 15) ^ (w2 >>> 19 | w2 << 13) ^ w2 >>> 10)) | 0;
        w5 = (w5 + ((w6 >>> 7 | w6 << 25) ^ (w6 >>> 18 | w6 << 14) ^ w6 >>> 3) + w14 + ((w3 >>> 17 | w3 << 15) ^ (w3 >>> 19 | w3 << 13) ^ w3 >>> 10)) | 0;
        w6 = (w6 + ((w7 >>> 7 | w7 << 25) ^ (w7 >>> 18 | w7 << 14) ^ w7 >>> 3) + w15 + ((w4 >>> 17 | w4 << 15) ^ (w4 >>> 19 | w4 << 13) ^ w4 >>> 10)) | 0;
        w7 = (w7 + ((w8 >>> 7 | w8 << 25) ^ (w8 >>> 18 | w8 << 14) ^ w8 >>> 3) + w0 + ((w5 >>> 17 | w5 << 15) ^ (w5 >>> 19 | w5 << 13) ^ w5 >>> 10)) | 0;
        w8 = (w8 + ((w9 >>> 7 | w9 << 25) ^ (w9 >>> 18 | w9 << 14) ^ w9 >>> 3) + w1 + ((w6 >>> 17 | w6 << 15) ^ (w6 >>> 19 | w6 << 13) ^ w6 >>> 10)) | 0;
        w9 = (w9 + ((w10 >>> 7 | w10 << 25) ^ (w10 >>> 18 | w10 << 14) ^ w10 >>> 3) + w2 + ((w7 >>> 17 | w7 << 15) ^ (w7 >>> 19 | w7 << 13) ^ w7 >>> 10)) | 0;
        w10 = (w10 + ((w11 >>> 7 | w11 << 25) ^ (w11 >>> 18 | w11 << 14) ^ w11 >>> 3) + w3 + ((w8 >>> 17 | w8 << 15) ^ (w8 >>> 19 | w8 << 13) ^ w8 >>> 10)) | 0;
        w11 = (w11 + ((w12 >>> 7 | w12 << 25) ^ (w12 >>> 18 | w12 << 14) ^ w12 >>> 3) + w4 + ((w9 >>> 17 | w9 << 15) ^ (w9 >>> 19 | w9 << 13) ^ w9 >>> 10)) | 0;
        w12 = (w12 + ((w13 >>> 7 | w13 << 25) ^ (w13 >>> 18 | w13 << 14) ^ w13 >>> 3) + w5 + ((w10 >>> 17 | w10 << 15) ^ (w10 >>> 19 | w10 << 13) ^ w10 >>> 10)) | 0;
        w13 = (w13 + ((w14 >>> 7 | w14 << 25) ^ (w14 >>> 18 | w14 << 14) ^ w14 >>> 3) + w6 + ((w11 >>> 17 | w11 << 15) ^ (w11 >>> 19 | w11 << 13) ^ w11 >>> 10)) | 0;
        w14 = (w14 + ((w15 >>> 7 | w15 << 25) ^ (w15 >>> 18 | w15 << 14) ^ w15 >>> 3) + w7 + ((w12 >>> 17 | w12 << 15) ^ (w12 >>> 19 | w12 << 13) ^ w12 >>> 10)) | 0;
        w15 = (w15 + ((w0 >>> 7 | w0 << 25) ^ (w0 >>> 18 | w0 << 14) ^ w0 >>> 3) + w8 + ((w13 >>> 17 | w13 << 15) ^ (w13 >>> 19 | w13 << 13) ^ w13 >>> 10)) | 0;
      }
      h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ e & (f ^ g)) + k[i] + w0) | 0;
      d = d + h;
      x = a ^ b;
      h = h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ x & y);
      g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ d & (e ^ f)) + k[i + 1] + w1) | 0;
      c = c + g;
      y = h ^ a;
      g = g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ y & x);
      f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ c & (d ^ e)) + k[i + 2] + w2) | 0;
      b = b + f;
      x = g ^ h;
      f = f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ x & y);
      e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ b & (c ^ d)) + k[i + 3] + w3) | 0;
      a = a + e;
      y = f ^ g;
      e = e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ y & x);
      d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ a & (b ^ c)) + k[i + 4] + w4) | 0;
      h = h + d;
      x = e ^ f;
      d = d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ x & y);
      c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ h & (a ^ b)) + k[i + 5] + w5) | 0;
      g = g + c;
      y = d ^ e;
      c = c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ y & x);
      b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ g & (h ^ a)) + k[i + 6] + w6) | 0;
      f = f + b;
      x = c ^ d;
      b = b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ x & y);
      a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ f & (g ^ h)) + k[i + 7] + w7) | 0;
      e = e + a;
      y = b ^ c;
      a = a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ y & x);
      h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (g ^ e & (f ^ g)) + k[i + 8] + w8) | 0;
      d = d + h;
      x = a ^ b;
      h = h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (b ^ x & y);
      g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) + (f ^ d & (e ^ f)) + k[i + 9] + w9) | 0;
      c = c + g;
      y = h ^ a;
      g = g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) + (a ^ y & x);
      f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) + (e ^ c & (d ^ e)) + k[i + 10] + w10) | 0;
      b = b + f;
      x = g ^ h;
      f = f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) + (h ^ x & y);
      e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) + (d ^ b & (c ^ d)) + k[i + 11] + w11) | 0;
      a = a + e;
      y = f ^ g;
      e = e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) + (g ^ y & x);
      d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) + (c ^ a & (b ^ c)) + k[i + 12] + w12) | 0;
      h = h + d;
      x = e ^ f;
      d = d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) + (f ^ x & y);
      c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) + (b ^ h & (a ^ b)) + k[i + 13] + w13) | 0;
      g = g + c;
      y = d ^ e;
      c = c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) + (e ^ y & x);
      b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) + (a ^ g & (h ^ a)) + k[i + 14] + w14) | 0;
      f = f + b;
      x = c ^ d;
      b = b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) + (d ^ x & y);
      a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + (h ^ f & (g ^ h)) + k[i + 15] + w15) | 0;
      e = e + a;
      y = b ^ c;
      a = a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) + (c ^ y & x);
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    pos += 64;
    nblocks--;
  }
  st[0] = h0; st[1] = h1; st[2] = h2; st[3] = h3; st[4] = h4; st[5] = h5; st[6] = h6; st[7] = h7;
}

function initState256(h: Int32Array): void {
  h[0] = 0x6a09e667; h[1] = 0xbb67ae85 | 0; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a | 0;
  h[4] = 0x510e527f; h[5] = 0x9b05688c | 0; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19;
}

// Incremental SHA-256. All buffers are created once in the constructor.
export class Sha256 {
  h: Int32Array;
  md: MdBuffer;

  constructor() {
    const h = new Int32Array(8);
    this.h = h;
    this.md = new MdBuffer(64, 8, function (buf: Uint8Array, pos: number, nblocks: number): void {
      compress256(h, buf, pos, nblocks);
    });
    initState256(h);
  }

  init(): Sha256 {
    initState256(this.h);
    this.md.reset();
    return this;
  }

  update(buf: Uint8Array, off: number, len: number): Sha256 {
    this.md.update(buf, off, len);
    return this;
  }

  // Writes the 32-byte digest to out[outOff..outOff+32). The instance must be init()ed again
  // before reuse.
  final(out: Uint8Array, outOff: number): void {
    this.md.finish();
    writeWordsBE(this.h, 8, out, outOff);
  }
}

const oneShot = new Sha256();

// SHA-256 of buf[off .. off+len) into out[0..32).
export function sha256(buf: Uint8Array, off: number, len: number, out: Uint8Array): void {
  oneShot.init();
  oneShot.update(buf, off, len);
  oneShot.final(out, 0);
}
