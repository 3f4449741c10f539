// HSS/LMS signature verification (RFC 8554) in constrained TS, for the SHA-256 parameter sets
// with 32-byte hashes: LMS_SHA256_M32_H5..H25 (types 5..9), LMOTS_SHA256_N32_W1..W8 (types
// 1..4), HSS with 1 or 2 levels.
//
// Every hash is ONE call of the platform's one-shot `primitives.sha256(buf, off, len, out)`
// over a contiguous buffer assembled in scratch allocated at creation, so a native SHA-256
// (Espruino's require("crypto").SHA256, the MCU firmware's C) does all the work. Before the
// first hash, the whole signature is parsed and every length and type checked against the
// parameter sets (and each LMS signature's types against the key it is checked with), so
// malformed input costs no hashing.
//
// Memory, allocated once by createHssVerifier (nothing is kept per call): typed arrays of
// 8,502 (candidate-key input, p = 265) + 54 + max(maxMsgLen, 56) (message-digest input) + 55
// (chain step) + 86 (tree node) + 34 + 32 + 32 bytes, i.e. 8,795 + max(maxMsgLen, 56) bytes
// (9,819 for 1 KiB messages), and two Int32Arrays of 2 entries. The copies into that scratch
// use set() with a short-lived subarray view, the native copy the rest of the core uses.
//
// sha256 calls per LMS level: 1 (message digest Q) + at most HSS_MAX_CHAIN_STEPS (264 / 396 /
// 990 / 8,415 for W1 / W2 / W4 / W8) + 1 (candidate OTS key) + 1 (leaf) + h (path), so for
// H5 / H10 / H15 / H20 / H25: W1 272 / 277 / 282 / 287 / 292, W2 404 ... 424, W4 998 ... 1,018,
// W8 8,423 ... 8,443 (5 more per step of height). An HSS signature costs the sum over its levels.

import type { Primitives } from "./primitives.js";
import { Reason } from "../../../formats/device-safe/reasons.js";

/** Bytes of an n = m = 32 hash value and of the key identifier I. */
const N = 32;
const ID_LEN = 16;
/** Bytes of one LMS public key: type, OTS type, I, T[1]. */
export const LMS_PUBKEY_LEN = 56;
/** Bytes of an HSS public key: L, then the top-level LMS public key. */
export const HSS_PUBKEY_LEN = 60;
/** Highest number of HSS levels this verifier accepts (RFC 8554 allows up to 8). */
export const HSS_MAX_LEVELS = 2;

// Domain separators of RFC 8554 §7.1.
const D_PBLC = 0x8080;
const D_MESG = 0x8181;
const D_LEAF = 0x8282;
const D_INTR = 0x8383;

// LM-OTS parameters indexed by type - 1 (types 1..4 = W1, W2, W4, W8): w, p, left shift.
const OTS_W = new Int32Array([1, 2, 4, 8]);
const OTS_P = new Int32Array([265, 133, 67, 34]);
const OTS_LS = new Int32Array([7, 6, 4, 0]);
// LMS tree heights indexed by type - 5 (types 5..9 = H5..H25).
const LMS_H = new Int32Array([5, 10, 15, 20, 25]);
/** The largest p (W1): the candidate-key buffer holds I || q || D_PBLC || z[0..p). */
const MAX_P = 265;

/**
 * The most Winternitz chain steps (sha256 calls) one LM-OTS verification can take, indexed by
 * OTS type - 1 (W1, W2, W4, W8): the maximum, over every message digest, of the steps left
 * to run in the p chains (computed from RFC 8554 §4.4's checksum; see test/unit/hss-lms.test.ts).
 */
export const HSS_MAX_CHAIN_STEPS = new Int32Array([264, 396, 990, 8415]);

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** LM-OTS p for an OTS type, or 0 when the type is not supported. */
function otsP(type: number): number {
  if (type < 1 || type > 4) return 0;
  return OTS_P[type - 1];
}

/** LMS tree height for an LMS type, or 0 when the type is not supported. */
function lmsH(type: number): number {
  if (type < 5 || type > 9) return 0;
  return LMS_H[type - 5];
}

/**
 * Bytes of an LMS signature with OTS type `ots` and LMS type `lms`: q, LM-OTS signature
 * (type, C, y[p]), LMS type, path[h]. 0 when a type is not supported.
 */
export function lmsSignatureLength(ots: number, lms: number): number {
  const p = otsP(ots);
  const h = lmsH(lms);
  if (p === 0 || h === 0) return 0;
  return 4 + 4 + N + N * p + 4 + N * h;
}

// Placeholder for HssVerifier.verify until the real one is defined.
function verifyStub(pk: Uint8Array, pkOff: number, pkLen: number, sig: Uint8Array, sigOff: number, sigLen: number,
  msg: Uint8Array, off: number, len: number): number {
  return Reason.BAD_STATE;
}

/** A verifier with its scratch; verify() returns a Reason code (OK when the signature is valid). */
export interface HssVerifier {
  /**
   * Verifies the HSS signature sig[sigOff .. sigOff+sigLen) over msg[off .. off+len) with the
   * HSS public key pk[pkOff .. pkOff+pkLen) (RFC 8554 §3.3 encodings). Returns Reason.OK, or
   * MALFORMED (a length that the parameter sets do not allow), UNSUPPORTED_ALGORITHM (a type
   * or level count outside the supported sets), TOO_LARGE (message over maxMsgLen) or
   * BAD_SIGNATURE (types differing from the key's, leaf index out of range, or a mismatch).
   */
  verify(pk: Uint8Array, pkOff: number, pkLen: number, sig: Uint8Array, sigOff: number, sigLen: number,
    msg: Uint8Array, off: number, len: number): number;
  /** sha256 calls made by the last verify() (0 when it rejected before hashing). */
  hashCalls: number;
  /** The longest message verify() accepts. */
  maxMsgLen: number;
}

/**
 * Creates an HSS/LMS verifier on the platform's one-shot sha256. All scratch is allocated
 * here (see the memory figure at the top of this file); `maxMsgLen` bounds the messages, since
 * the message digest hashes I || q || D_MESG || C || message in one call.
 */
export function createHssVerifier(primitives: Primitives, maxMsgLen: number): HssVerifier {
  const sha = primitives.sha256;
  const msgCap = maxMsgLen > LMS_PUBKEY_LEN ? maxMsgLen : LMS_PUBKEY_LEN;
  // I || u32(q) || u16(D_PBLC) || z[0..p): the candidate OTS public key's input.
  const pblc = new Uint8Array(22 + N * MAX_P);
  // I || u32(q) || u16(D_MESG) || C || message.
  const mesg = new Uint8Array(22 + N + msgCap);
  // I || u32(q) || u16(i) || u8(j) || tmp: one chain step.
  const chain = new Uint8Array(23 + N);
  // I || u32(r) || u16(D_LEAF or D_INTR) || left || right: one tree node.
  const node = new Uint8Array(22 + 2 * N);
  // Q || Cksm(Q): the digits driving the chains.
  const qsum = new Uint8Array(N + 2);
  const dig = new Uint8Array(N);
  const kc = new Uint8Array(N);
  // Per level, found by the parse before any hashing: offsets into sig of the LMS signature
  // and of the signed public key (the key checked at level 0 is pk itself).
  const levelSig = new Int32Array(HSS_MAX_LEVELS);
  const levelKey = new Int32Array(HSS_MAX_LEVELS);

  // Filled in below (Espruino does not hoist function declarations).
  const self: HssVerifier = { verify: verifyStub, hashCalls: 0, maxMsgLen: maxMsgLen };

  // Parses one LMS signature at sig[o ..) checked against the LMS public key key[ko ..)
  // whose types are already known to be supported. Returns the signature's length, or a
  // negative Reason code.
  function lmsSigLen(key: Uint8Array, ko: number, sig: Uint8Array, o: number, end: number): number {
    const lmsType = readU32(key, ko);
    const otsType = readU32(key, ko + 4);
    if (end - o < 8) return -Reason.MALFORMED;
    if (readU32(sig, o + 4) !== otsType) return -Reason.BAD_SIGNATURE;
    const p = otsP(otsType);
    const typeAt = o + 8 + N + N * p;
    if (end - typeAt < 4) return -Reason.MALFORMED;
    if (readU32(sig, typeAt) !== lmsType) return -Reason.BAD_SIGNATURE;
    const total = lmsSignatureLength(otsType, lmsType);
    if (end - o < total) return -Reason.MALFORMED;
    // q must name a leaf of the tree: q < 2^h (h <= 25, so the shift is exact).
    if (readU32(sig, o) >= (1 << lmsH(lmsType))) return -Reason.BAD_SIGNATURE;
    return total;
  }

  // OK when the LMS public key key[ko .. ko+56) names supported types.
  function keyTypes(key: Uint8Array, ko: number): number {
    if (lmsH(readU32(key, ko)) === 0 || otsP(readU32(key, ko + 4)) === 0) return Reason.UNSUPPORTED_ALGORITHM;
    return Reason.OK;
  }

  function hash(buf: Uint8Array, len: number, out: Uint8Array): void {
    sha(buf, 0, len, out);
    self.hashCalls++;
  }

  // RFC 8554 Algorithm 4b then 6a: the LMS signature at sig[so ..) over mesg[54 .. 54+mlen)
  // (already copied there) against the LMS public key key[ko ..). Lengths and types were
  // checked by lmsSigLen. True when the computed root equals the key's T[1].
  function lmsVerify(key: Uint8Array, ko: number, sig: Uint8Array, so: number, mlen: number): boolean {
    const otsType = readU32(key, ko + 4);
    const w = OTS_W[otsType - 1];
    const p = OTS_P[otsType - 1];
    const ls = OTS_LS[otsType - 1];
    const h = lmsH(readU32(key, ko));
    const q = readU32(sig, so);
    const top = (1 << w) - 1;
    const perByte = 8 / w;
    let i = 0;
    let j = 0;
    let a = 0;

    // Q = H(I || u32(q) || u16(D_MESG) || C || message)
    mesg.set(key.subarray(ko + 8, ko + 8 + ID_LEN), 0);
    writeU32(mesg, 16, q);
    mesg[20] = D_MESG >>> 8;
    mesg[21] = D_MESG & 255;
    mesg.set(sig.subarray(so + 8, so + 8 + N), 22);
    hash(mesg, 22 + N + mlen, qsum);

    // Cksm(Q): sum of (2^w - 1 - digit) over the n*8/w digits of Q, shifted left by ls.
    let sum = 0;
    const digits = (N * 8) / w;
    for (i = 0; i < digits; i++) {
      a = (qsum[(i * w) >> 3] >> (8 - (w * (i % perByte) + w))) & top;
      sum += top - a;
    }
    sum = (sum << ls) & 0xffff;
    qsum[N] = sum >>> 8;
    qsum[N + 1] = sum & 255;

    // z[i]: run chain i from digit a up to 2^w - 1, starting at y[i].
    chain.set(mesg.subarray(0, 20), 0);
    pblc.set(mesg.subarray(0, 20), 0);
    pblc[20] = D_PBLC >>> 8;
    pblc[21] = D_PBLC & 255;
    let y = so + 8 + N;
    for (i = 0; i < p; i++) {
      a = (qsum[(i * w) >> 3] >> (8 - (w * (i % perByte) + w))) & top;
      if (a === top) {
        pblc.set(sig.subarray(y, y + N), 22 + N * i);
      } else {
        chain[20] = i >>> 8;
        chain[21] = i & 255;
        chain.set(sig.subarray(y, y + N), 23);
        // The hot loop (up to 8,415 steps for W8): the bare primitive, calls counted at once.
        for (j = a; j < top; j++) {
          chain[22] = j;
          sha(chain, 0, 23 + N, dig);
          chain.set(dig, 23);
        }
        self.hashCalls += top - a;
        pblc.set(dig, 22 + N * i);
      }
      y += N;
    }
    // Kc = H(I || u32(q) || u16(D_PBLC) || z[0] .. z[p-1])
    hash(pblc, 22 + N * p, kc);

    // Leaf, then up the authentication path to the root.
    let r = (1 << h) + q;
    node.set(mesg.subarray(0, ID_LEN), 0);
    writeU32(node, 16, r);
    node[20] = D_LEAF >>> 8;
    node[21] = D_LEAF & 255;
    node.set(kc, 22);
    hash(node, 22 + N, dig);
    node[20] = D_INTR >>> 8;
    node[21] = D_INTR & 255;
    let path = so + 8 + N + N * p + 4;
    while (r > 1) {
      if ((r & 1) === 1) {
        node.set(sig.subarray(path, path + N), 22);
        node.set(dig, 22 + N);
      } else {
        node.set(dig, 22);
        node.set(sig.subarray(path, path + N), 22 + N);
      }
      r = r >>> 1;
      writeU32(node, 16, r);
      hash(node, 22 + 2 * N, dig);
      path += N;
    }
    let diff = 0;
    for (i = 0; i < N; i++) diff |= dig[i] ^ key[ko + 24 + i];
    return diff === 0;
  }

  function verify(pk: Uint8Array, pkOff: number, pkLen: number, sig: Uint8Array, sigOff: number, sigLen: number,
    msg: Uint8Array, off: number, len: number): number {
    self.hashCalls = 0;
    // The types come first (a key of another parameter set also has another length).
    if (pkLen < 12 || pkOff < 0 || pkOff + pkLen > pk.length) return Reason.MALFORMED;
    const levels = readU32(pk, pkOff);
    if (levels < 1 || levels > HSS_MAX_LEVELS) return Reason.UNSUPPORTED_ALGORITHM;
    let rc = keyTypes(pk, pkOff + 4);
    if (rc !== Reason.OK) return rc;
    if (pkLen !== HSS_PUBKEY_LEN) return Reason.MALFORMED;
    if (sigOff < 0 || sigLen < 0 || sigOff + sigLen > sig.length) return Reason.MALFORMED;
    if (off < 0 || len < 0 || off + len > msg.length) return Reason.MALFORMED;
    if (len > maxMsgLen) return Reason.TOO_LARGE;
    const end = sigOff + sigLen;
    if (sigLen < 4) return Reason.MALFORMED;
    // Nspk: the number of signed public keys, one per level below the top.
    if (readU32(sig, sigOff) !== levels - 1) return Reason.BAD_SIGNATURE;

    // Parse every level before any hashing.
    let o = sigOff + 4;
    let key = pkOff + 4;
    let keyBuf = pk;
    let n = 0;
    let lvl = 0;
    for (lvl = 0; lvl < levels; lvl++) {
      n = lmsSigLen(keyBuf, key, sig, o, end);
      if (n < 0) return -n;
      levelSig[lvl] = o;
      o += n;
      if (lvl + 1 < levels) {
        if (end - o < LMS_PUBKEY_LEN) return Reason.MALFORMED;
        rc = keyTypes(sig, o);
        if (rc !== Reason.OK) return rc;
        levelKey[lvl + 1] = o;
        keyBuf = sig;
        key = o;
        o += LMS_PUBKEY_LEN;
      }
    }
    if (o !== end) return Reason.MALFORMED;

    // Each level signs the next level's public key; the last signs the message.
    keyBuf = pk;
    key = pkOff + 4;
    for (lvl = 0; lvl < levels; lvl++) {
      if (lvl + 1 < levels) {
        mesg.set(sig.subarray(levelKey[lvl + 1], levelKey[lvl + 1] + LMS_PUBKEY_LEN), 22 + N);
        if (!lmsVerify(keyBuf, key, sig, levelSig[lvl], LMS_PUBKEY_LEN)) return Reason.BAD_SIGNATURE;
        keyBuf = sig;
        key = levelKey[lvl + 1];
      } else {
        mesg.set(msg.subarray(off, off + len), 22 + N);
        if (!lmsVerify(keyBuf, key, sig, levelSig[lvl], len)) return Reason.BAD_SIGNATURE;
      }
    }
    return Reason.OK;
  }

  self.verify = verify;
  return self;
}
