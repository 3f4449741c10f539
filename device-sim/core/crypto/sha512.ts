// SHA-512 (FIPS 180-4) in constrained TS without BigInt: every 64-bit word is a pair of
// 32-bit halves (hi, lo) in Int32Arrays. Incremental (init/update/final) because Ed25519
// hashes R || A || M with M possibly large. No allocation after construction.

import { MdBuffer, writeWordsBE } from "./md-buffer.js";

// Round constants as hi/lo pairs.
const K512 = new Int32Array([
  0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc,
  0x3956c25b, 0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118,
  0xd807aa98, 0xa3030242, 0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2,
  0x72be5d74, 0xf27b896f, 0x80deb1fe, 0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694,
  0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3, 0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65,
  0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc, 0xbd41fbd4, 0x76f988da, 0x831153b5,
  0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f, 0xbf597fc7, 0xbeef0ee4,
  0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967, 0x0a0e6e70,
  0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
  0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b,
  0xa2bfe8a1, 0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30,
  0xd192e819, 0xd6ef5218, 0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8,
  0x19a4c116, 0xb8d2d0c8, 0x1e376c08, 0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8,
  0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb, 0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3,
  0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814, 0xa1f0ab72, 0x8cc70208, 0x1a6439ec,
  0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915, 0xc67178f2, 0xe372532b,
  0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f, 0xee6ed178,
  0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
  0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c,
  0x4cc5d4be, 0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817,
]);

const IV512 = new Int32Array([
  0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1,
  0x510e527f, 0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179,
]);

// 2^32. Hot loops use the literal: a module-level name costs a scope lookup in Duktape.

// Compress nblocks 128-byte blocks of buf from pos into h (16 words: hi0, lo0, hi1, lo1, ...).
// w: 160-word schedule scratch (hi/lo pairs).
function compress512(h: Int32Array, w: Int32Array, buf: Uint8Array, pos: number, nblocks: number): void {
  const k = K512;
  while (nblocks > 0) {
    let i = 0;
    for (i = 0; i < 32; i++) {
      w[i] = (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
      pos += 4;
    }
    for (i = 32; i < 160; i += 2) {
      // s0 = rotr1(x) ^ rotr8(x) ^ shr7(x), x = w[t-15]
      let xh = w[i - 30], xl = w[i - 29];
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      // s1 = rotr19(x) ^ rotr61(x) ^ shr6(x), x = w[t-2]
      xh = w[i - 4]; xl = w[i - 3];
      const s1h = ((xh >>> 19) | (xl << 13)) ^ ((xl >>> 29) | (xh << 3)) ^ (xh >>> 6);
      const s1l = ((xl >>> 19) | (xh << 13)) ^ ((xh >>> 29) | (xl << 3)) ^ ((xl >>> 6) | (xh << 26));
      const lo = (s0l >>> 0) + (s1l >>> 0) + (w[i - 13] >>> 0) + (w[i - 31] >>> 0);
      w[i] = (s0h + s1h + w[i - 14] + w[i - 32] + ((lo / 4294967296) | 0)) | 0;
      w[i + 1] = lo | 0;
    }
    let ah = h[0], al = h[1], bh = h[2], bl = h[3], ch = h[4], cl = h[5], dh = h[6], dl = h[7];
    let eh = h[8], el = h[9], fh = h[10], fl = h[11], gh = h[12], gl = h[13], hh = h[14], hl = h[15];
    let sh = 0, sl = 0, th = 0, tl = 0, s = 0;
    // 8 rounds per iteration with rotating variable roles (no register shuffling).
    // Low halves are summed as unsigned doubles (< 2^35, exact); the carry goes to hi.
    for (i = 0; i < 160; i += 16) {
      sh = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      sl = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      tl = (hl >>> 0) + (sl >>> 0) + ((gl ^ (el & (fl ^ gl))) >>> 0) + (k[i + 1] >>> 0) + (w[i + 1] >>> 0);
      th = hh + sh + (gh ^ (eh & (fh ^ gh))) + k[i] + w[i] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (dl >>> 0) + tl; dh = (dh + th + ((s / 4294967296) | 0)) | 0; dl = s | 0;
      sh = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      sl = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      s = tl + (sl >>> 0) + (((al & bl) | (cl & (al | bl))) >>> 0);
      hh = (th + sh + ((ah & bh) | (ch & (ah | bh))) + ((s / 4294967296) | 0)) | 0; hl = s | 0;
      sh = ((dh >>> 14) | (dl << 18)) ^ ((dh >>> 18) | (dl << 14)) ^ ((dl >>> 9) | (dh << 23));
      sl = ((dl >>> 14) | (dh << 18)) ^ ((dl >>> 18) | (dh << 14)) ^ ((dh >>> 9) | (dl << 23));
      tl = (gl >>> 0) + (sl >>> 0) + ((fl ^ (dl & (el ^ fl))) >>> 0) + (k[i + 3] >>> 0) + (w[i + 3] >>> 0);
      th = gh + sh + (fh ^ (dh & (eh ^ fh))) + k[i + 2] + w[i + 2] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (cl >>> 0) + tl; ch = (ch + th + ((s / 4294967296) | 0)) | 0; cl = s | 0;
      sh = ((hh >>> 28) | (hl << 4)) ^ ((hl >>> 2) | (hh << 30)) ^ ((hl >>> 7) | (hh << 25));
      sl = ((hl >>> 28) | (hh << 4)) ^ ((hh >>> 2) | (hl << 30)) ^ ((hh >>> 7) | (hl << 25));
      s = tl + (sl >>> 0) + (((hl & al) | (bl & (hl | al))) >>> 0);
      gh = (th + sh + ((hh & ah) | (bh & (hh | ah))) + ((s / 4294967296) | 0)) | 0; gl = s | 0;
      sh = ((ch >>> 14) | (cl << 18)) ^ ((ch >>> 18) | (cl << 14)) ^ ((cl >>> 9) | (ch << 23));
      sl = ((cl >>> 14) | (ch << 18)) ^ ((cl >>> 18) | (ch << 14)) ^ ((ch >>> 9) | (cl << 23));
      tl = (fl >>> 0) + (sl >>> 0) + ((el ^ (cl & (dl ^ el))) >>> 0) + (k[i + 5] >>> 0) + (w[i + 5] >>> 0);
      th = fh + sh + (eh ^ (ch & (dh ^ eh))) + k[i + 4] + w[i + 4] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (bl >>> 0) + tl; bh = (bh + th + ((s / 4294967296) | 0)) | 0; bl = s | 0;
      sh = ((gh >>> 28) | (gl << 4)) ^ ((gl >>> 2) | (gh << 30)) ^ ((gl >>> 7) | (gh << 25));
      sl = ((gl >>> 28) | (gh << 4)) ^ ((gh >>> 2) | (gl << 30)) ^ ((gh >>> 7) | (gl << 25));
      s = tl + (sl >>> 0) + (((gl & hl) | (al & (gl | hl))) >>> 0);
      fh = (th + sh + ((gh & hh) | (ah & (gh | hh))) + ((s / 4294967296) | 0)) | 0; fl = s | 0;
      sh = ((bh >>> 14) | (bl << 18)) ^ ((bh >>> 18) | (bl << 14)) ^ ((bl >>> 9) | (bh << 23));
      sl = ((bl >>> 14) | (bh << 18)) ^ ((bl >>> 18) | (bh << 14)) ^ ((bh >>> 9) | (bl << 23));
      tl = (el >>> 0) + (sl >>> 0) + ((dl ^ (bl & (cl ^ dl))) >>> 0) + (k[i + 7] >>> 0) + (w[i + 7] >>> 0);
      th = eh + sh + (dh ^ (bh & (ch ^ dh))) + k[i + 6] + w[i + 6] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (al >>> 0) + tl; ah = (ah + th + ((s / 4294967296) | 0)) | 0; al = s | 0;
      sh = ((fh >>> 28) | (fl << 4)) ^ ((fl >>> 2) | (fh << 30)) ^ ((fl >>> 7) | (fh << 25));
      sl = ((fl >>> 28) | (fh << 4)) ^ ((fh >>> 2) | (fl << 30)) ^ ((fh >>> 7) | (fl << 25));
      s = tl + (sl >>> 0) + (((fl & gl) | (hl & (fl | gl))) >>> 0);
      eh = (th + sh + ((fh & gh) | (hh & (fh | gh))) + ((s / 4294967296) | 0)) | 0; el = s | 0;
      sh = ((ah >>> 14) | (al << 18)) ^ ((ah >>> 18) | (al << 14)) ^ ((al >>> 9) | (ah << 23));
      sl = ((al >>> 14) | (ah << 18)) ^ ((al >>> 18) | (ah << 14)) ^ ((ah >>> 9) | (al << 23));
      tl = (dl >>> 0) + (sl >>> 0) + ((cl ^ (al & (bl ^ cl))) >>> 0) + (k[i + 9] >>> 0) + (w[i + 9] >>> 0);
      th = dh + sh + (ch ^ (ah & (bh ^ ch))) + k[i + 8] + w[i + 8] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (hl >>> 0) + tl; hh = (hh + th + ((s / 4294967296) | 0)) | 0; hl = s | 0;
      sh = ((eh >>> 28) | (el << 4)) ^ ((el >>> 2) | (eh << 30)) ^ ((el >>> 7) | (eh << 25));
      sl = ((el >>> 28) | (eh << 4)) ^ ((eh >>> 2) | (el << 30)) ^ ((eh >>> 7) | (el << 25));
      s = tl + (sl >>> 0) + (((el & fl) | (gl & (el | fl))) >>> 0);
      dh = (th + sh + ((eh & fh) | (gh & (eh | fh))) + ((s / 4294967296) | 0)) | 0; dl = s | 0;
      sh = ((hh >>> 14) | (hl << 18)) ^ ((hh >>> 18) | (hl << 14)) ^ ((hl >>> 9) | (hh << 23));
      sl = ((hl >>> 14) | (hh << 18)) ^ ((hl >>> 18) | (hh << 14)) ^ ((hh >>> 9) | (hl << 23));
      tl = (cl >>> 0) + (sl >>> 0) + ((bl ^ (hl & (al ^ bl))) >>> 0) + (k[i + 11] >>> 0) + (w[i + 11] >>> 0);
      th = ch + sh + (bh ^ (hh & (ah ^ bh))) + k[i + 10] + w[i + 10] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (gl >>> 0) + tl; gh = (gh + th + ((s / 4294967296) | 0)) | 0; gl = s | 0;
      sh = ((dh >>> 28) | (dl << 4)) ^ ((dl >>> 2) | (dh << 30)) ^ ((dl >>> 7) | (dh << 25));
      sl = ((dl >>> 28) | (dh << 4)) ^ ((dh >>> 2) | (dl << 30)) ^ ((dh >>> 7) | (dl << 25));
      s = tl + (sl >>> 0) + (((dl & el) | (fl & (dl | el))) >>> 0);
      ch = (th + sh + ((dh & eh) | (fh & (dh | eh))) + ((s / 4294967296) | 0)) | 0; cl = s | 0;
      sh = ((gh >>> 14) | (gl << 18)) ^ ((gh >>> 18) | (gl << 14)) ^ ((gl >>> 9) | (gh << 23));
      sl = ((gl >>> 14) | (gh << 18)) ^ ((gl >>> 18) | (gh << 14)) ^ ((gh >>> 9) | (gl << 23));
      tl = (bl >>> 0) + (sl >>> 0) + ((al ^ (gl & (hl ^ al))) >>> 0) + (k[i + 13] >>> 0) + (w[i + 13] >>> 0);
      th = bh + sh + (ah ^ (gh & (hh ^ ah))) + k[i + 12] + w[i + 12] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (fl >>> 0) + tl; fh = (fh + th + ((s / 4294967296) | 0)) | 0; fl = s | 0;
      sh = ((ch >>> 28) | (cl << 4)) ^ ((cl >>> 2) | (ch << 30)) ^ ((cl >>> 7) | (ch << 25));
      sl = ((cl >>> 28) | (ch << 4)) ^ ((ch >>> 2) | (cl << 30)) ^ ((ch >>> 7) | (cl << 25));
      s = tl + (sl >>> 0) + (((cl & dl) | (el & (cl | dl))) >>> 0);
      bh = (th + sh + ((ch & dh) | (eh & (ch | dh))) + ((s / 4294967296) | 0)) | 0; bl = s | 0;
      sh = ((fh >>> 14) | (fl << 18)) ^ ((fh >>> 18) | (fl << 14)) ^ ((fl >>> 9) | (fh << 23));
      sl = ((fl >>> 14) | (fh << 18)) ^ ((fl >>> 18) | (fh << 14)) ^ ((fh >>> 9) | (fl << 23));
      tl = (al >>> 0) + (sl >>> 0) + ((hl ^ (fl & (gl ^ hl))) >>> 0) + (k[i + 15] >>> 0) + (w[i + 15] >>> 0);
      th = ah + sh + (hh ^ (fh & (gh ^ hh))) + k[i + 14] + w[i + 14] + ((tl / 4294967296) | 0);
      tl = tl >>> 0;
      s = (el >>> 0) + tl; eh = (eh + th + ((s / 4294967296) | 0)) | 0; el = s | 0;
      sh = ((bh >>> 28) | (bl << 4)) ^ ((bl >>> 2) | (bh << 30)) ^ ((bl >>> 7) | (bh << 25));
      sl = ((bl >>> 28) | (bh << 4)) ^ ((bh >>> 2) | (bl << 30)) ^ ((bh >>> 7) | (bl << 25));
      s = tl + (sl >>> 0) + (((bl & cl) | (dl & (bl | cl))) >>> 0);
      ah = (th + sh + ((bh & ch) | (dh & (bh | ch))) + ((s / 4294967296) | 0)) | 0; al = s | 0;
    }
    s = (h[1] >>> 0) + (al >>> 0); h[0] = (h[0] + ah + ((s / 4294967296) | 0)) | 0; h[1] = s | 0;
    s = (h[3] >>> 0) + (bl >>> 0); h[2] = (h[2] + bh + ((s / 4294967296) | 0)) | 0; h[3] = s | 0;
    s = (h[5] >>> 0) + (cl >>> 0); h[4] = (h[4] + ch + ((s / 4294967296) | 0)) | 0; h[5] = s | 0;
    s = (h[7] >>> 0) + (dl >>> 0); h[6] = (h[6] + dh + ((s / 4294967296) | 0)) | 0; h[7] = s | 0;
    s = (h[9] >>> 0) + (el >>> 0); h[8] = (h[8] + eh + ((s / 4294967296) | 0)) | 0; h[9] = s | 0;
    s = (h[11] >>> 0) + (fl >>> 0); h[10] = (h[10] + fh + ((s / 4294967296) | 0)) | 0; h[11] = s | 0;
    s = (h[13] >>> 0) + (gl >>> 0); h[12] = (h[12] + gh + ((s / 4294967296) | 0)) | 0; h[13] = s | 0;
    s = (h[15] >>> 0) + (hl >>> 0); h[14] = (h[14] + hh + ((s / 4294967296) | 0)) | 0; h[15] = s | 0;
    nblocks--;
  }
}

// Incremental SHA-512; buffers created once in the constructor.
export class Sha512 {
  h: Int32Array;
  w: Int32Array;
  md: MdBuffer;

  constructor() {
    const h = new Int32Array(16);
    const w = new Int32Array(160);
    this.h = h;
    this.w = w;
    this.md = new MdBuffer(128, 16, function (buf: Uint8Array, pos: number, nblocks: number): void {
      compress512(h, w, buf, pos, nblocks);
    });
    h.set(IV512, 0);
  }

  init(): Sha512 {
    this.h.set(IV512, 0);
    this.md.reset();
    return this;
  }

  update(buf: Uint8Array, off: number, len: number): Sha512 {
    this.md.update(buf, off, len);
    return this;
  }

  // Writes the 64-byte digest to out[outOff..outOff+64); init() before reuse.
  final(out: Uint8Array, outOff: number): void {
    this.md.finish();
    writeWordsBE(this.h, 16, out, outOff);
  }
}
