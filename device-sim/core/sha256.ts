// SHA-256 (FIPS 180-4) in constrained TS: no allocation per call, 32-bit integer math with
// `|0` / `>>> 0` only (no Math.imul), typed arrays only indexed, set and subarray.
// One-shot `sha256(buf, off, len, out)` plus an incremental `Sha256` (init/update/final)
// whose state lives in typed arrays created once per instance.

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
// w: 64-word message schedule scratch (Int32Array), owned by the caller.
function compress256(st: Int32Array, w: Int32Array, buf: Uint8Array, pos: number, nblocks: number): void {
  const k = K256;
  let h0 = st[0], h1 = st[1], h2 = st[2], h3 = st[3], h4 = st[4], h5 = st[5], h6 = st[6], h7 = st[7];
  while (nblocks > 0) {
    let i = 0;
    for (i = 0; i < 16; i++) {
      w[i] = (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
      pos += 4;
    }
    for (i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (s1 + w[i - 7] + s0 + w[i - 16]) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7, t = 0;
    // 8 rounds per iteration with rotating variable roles (no register shuffling);
    // Ch(e,f,g) = g ^ (e & (f ^ g)), Maj(a,b,c) = (a & b) | (c & (a | b)).
    for (i = 0; i < 64; i += 8) {
      t = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + k[i] + w[i]) | 0;
      d = (d + t) | 0;
      h = (t + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0;
      t = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f))) + k[i + 1] + w[i + 1]) | 0;
      c = (c + t) | 0;
      g = (t + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0;
      t = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e))) + k[i + 2] + w[i + 2]) | 0;
      b = (b + t) | 0;
      f = (t + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0;
      t = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d))) + k[i + 3] + w[i + 3]) | 0;
      a = (a + t) | 0;
      e = (t + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0;
      t = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c))) + k[i + 4] + w[i + 4]) | 0;
      h = (h + t) | 0;
      d = (t + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0;
      t = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b))) + k[i + 5] + w[i + 5]) | 0;
      g = (g + t) | 0;
      c = (t + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0;
      t = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a))) + k[i + 6] + w[i + 6]) | 0;
      f = (f + t) | 0;
      b = (t + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0;
      t = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h))) + k[i + 7] + w[i + 7]) | 0;
      e = (e + t) | 0;
      a = (t + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
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
  w: Int32Array;
  block: Uint8Array;
  blockLen: number;
  // Total message length in bytes, kept as two numbers so inputs above 2^32 bytes still work.
  lenLo: number;
  lenHi: number;

  constructor() {
    this.h = new Int32Array(8);
    this.w = new Int32Array(64);
    this.block = new Uint8Array(64);
    this.blockLen = 0;
    this.lenLo = 0;
    this.lenHi = 0;
    initState256(this.h);
  }

  init(): Sha256 {
    initState256(this.h);
    this.blockLen = 0;
    this.lenLo = 0;
    this.lenHi = 0;
    return this;
  }

  update(buf: Uint8Array, off: number, len: number): Sha256 {
    let lo = this.lenLo + len;
    if (lo >= 4294967296) {
      const c = (lo / 4294967296) | 0;
      this.lenHi += c;
      lo -= c * 4294967296;
    }
    this.lenLo = lo;
    const block = this.block;
    let bl = this.blockLen;
    if (bl > 0) {
      let take = 64 - bl;
      if (take > len) take = len;
      block.set(buf.subarray(off, off + take), bl);
      bl += take; off += take; len -= take;
      if (bl < 64) { this.blockLen = bl; return this; }
      compress256(this.h, this.w, block, 0, 1);
      bl = 0;
    }
    const n = (len / 64) | 0;
    if (n > 0) {
      compress256(this.h, this.w, buf, off, n);
      off += n * 64; len -= n * 64;
    }
    if (len > 0) block.set(buf.subarray(off, off + len), 0);
    this.blockLen = len;
    return this;
  }

  // Writes the 32-byte digest to out[outOff..outOff+32). The instance must be init()ed again
  // before reuse.
  final(out: Uint8Array, outOff: number): void {
    const block = this.block;
    let bl = this.blockLen;
    block[bl++] = 0x80;
    if (bl > 56) {
      while (bl < 64) block[bl++] = 0;
      compress256(this.h, this.w, block, 0, 1);
      bl = 0;
    }
    while (bl < 56) block[bl++] = 0;
    // Bit length, big-endian 64-bit: (lenHi * 2^32 + lenLo) * 8.
    const lo = this.lenLo;
    const hiBits = this.lenHi * 8 + ((lo / 536870912) | 0); // lo >> 29 without 32-bit overflow
    const loBits = (lo * 8) % 4294967296;
    block[56] = (hiBits >>> 24) & 255; block[57] = (hiBits >>> 16) & 255;
    block[58] = (hiBits >>> 8) & 255; block[59] = hiBits & 255;
    block[60] = (loBits >>> 24) & 255; block[61] = (loBits >>> 16) & 255;
    block[62] = (loBits >>> 8) & 255; block[63] = loBits & 255;
    compress256(this.h, this.w, block, 0, 1);
    const h = this.h;
    for (let i = 0; i < 8; i++) {
      const v = h[i];
      out[outOff + 4 * i] = (v >>> 24) & 255;
      out[outOff + 4 * i + 1] = (v >>> 16) & 255;
      out[outOff + 4 * i + 2] = (v >>> 8) & 255;
      out[outOff + 4 * i + 3] = v & 255;
    }
  }
}

const oneShot = new Sha256();

// SHA-256 of buf[off .. off+len) into out[0..32).
export function sha256(buf: Uint8Array, off: number, len: number, out: Uint8Array): void {
  oneShot.init();
  oneShot.update(buf, off, len);
  oneShot.final(out, 0);
}
