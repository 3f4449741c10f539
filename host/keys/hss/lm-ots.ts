// LM-OTS one-time signatures (RFC 8554 §4) with SHA-256, n = 32. Private elements come from
// a secret SEED by RFC 8554 Appendix A: x_q[i] = H(I || u32str(q) || u16str(i) || u8str(0xff) || SEED).
// Every chain step hashes the same 55-byte layout I || q || i || j || tmp, so one scratch buffer
// is refilled in place; this loop is where key generation and signing spend their time.
import { hash, createHash } from "node:crypto";
import { D_MESG, D_PBLC, HASH_LEN, I_LEN, type LmotsParams } from "./params.js";

const OFF_Q = I_LEN;
const OFF_I = OFF_Q + 4;
const OFF_J = OFF_I + 2;
const OFF_TMP = OFF_J + 1;
const CHAIN_INPUT_LEN = OFF_TMP + HASH_LEN;

function sha256(data: Uint8Array): Buffer {
  return hash("sha256", data, "buffer") as unknown as Buffer;
}

/** H(I || u32str(q) || u16str(i) || u8str(j) || data32): the Appendix A derivation and the chain step share it. */
export function prf(I: Uint8Array, q: number, i: number, j: number, data32: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(CHAIN_INPUT_LEN);
  b.set(I, 0);
  b.writeUInt32BE(q >>> 0, OFF_Q);
  b.writeUInt16BE(i, OFF_I);
  b[OFF_J] = j;
  b.set(data32, OFF_TMP);
  return sha256(b);
}

/** Coefficient i of S in base 2^w (RFC 8554 §3.1.3). */
function coef(S: Uint8Array, i: number, w: number): number {
  return ((1 << w) - 1) & (S[Math.floor((i * w) / 8)] >> (8 - (w * (i % (8 / w)) + w)));
}

/** The p chain lengths a message digest Q selects: its coefficients, then those of its checksum. */
export function digestCoefficients(Q: Uint8Array, ots: LmotsParams): Uint16Array {
  const max = (1 << ots.w) - 1;
  const count = (HASH_LEN * 8) / ots.w;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += max - coef(Q, i, ots.w);
  const withSum = Buffer.alloc(HASH_LEN + 2);
  withSum.set(Q, 0);
  withSum.writeUInt16BE((sum << ots.ls) & 0xffff, HASH_LEN);
  const a = new Uint16Array(ots.p);
  for (let i = 0; i < ots.p; i++) a[i] = coef(withSum, i, ots.w);
  return a;
}

/**
 * Run chain i of leaf q from `start` (a private element or a signature element) through
 * steps j = from .. to-1; returns the end value. One buffer for the whole chain.
 */
function chain(I: Uint8Array, q: number, i: number, start: Uint8Array, from: number, to: number): Buffer {
  const b = Buffer.allocUnsafe(CHAIN_INPUT_LEN);
  b.set(I, 0);
  b.writeUInt32BE(q >>> 0, OFF_Q);
  b.writeUInt16BE(i, OFF_I);
  b.set(start, OFF_TMP);
  for (let j = from; j < to; j++) {
    b[OFF_J] = j;
    sha256(b).copy(b, OFF_TMP);
  }
  return b.subarray(OFF_TMP);
}

/** K = H(I || u32str(q) || u16str(D_PBLC) || y[0] || ... || y[p-1]) over chain ends in `ends`. */
function publicHash(I: Uint8Array, q: number, ends: Buffer): Buffer {
  const head = Buffer.allocUnsafe(I_LEN + 6);
  head.set(I, 0);
  head.writeUInt32BE(q >>> 0, OFF_Q);
  head.writeUInt16BE(D_PBLC, OFF_I);
  return createHash("sha256").update(head).update(ends).digest();
}

/** The LM-OTS public key hash K of leaf q (RFC 8554 §4.3, private elements from SEED). */
export function lmotsPublicKey(ots: LmotsParams, I: Uint8Array, seed: Uint8Array, q: number): Buffer {
  const top = (1 << ots.w) - 1;
  const ends = Buffer.allocUnsafe(ots.p * HASH_LEN);
  for (let i = 0; i < ots.p; i++) {
    const x = prf(I, q, i, 0xff, seed);
    chain(I, q, i, x, 0, top).copy(ends, i * HASH_LEN);
  }
  return publicHash(I, q, ends);
}

/** Q = H(I || u32str(q) || u16str(D_MESG) || C || message). */
function messageDigest(I: Uint8Array, q: number, C: Uint8Array, message: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(I_LEN + 6);
  head.set(I, 0);
  head.writeUInt32BE(q >>> 0, OFF_Q);
  head.writeUInt16BE(D_MESG, OFF_I);
  return createHash("sha256").update(head).update(C).update(message).digest();
}

/** An LM-OTS signature of `message` with leaf q's one-time key and randomizer C (RFC 8554 §4.5). */
export function lmotsSign(ots: LmotsParams, I: Uint8Array, seed: Uint8Array, q: number, C: Uint8Array, message: Uint8Array): Buffer {
  const a = digestCoefficients(messageDigest(I, q, C, message), ots);
  const sig = Buffer.allocUnsafe(ots.sigLen);
  sig.writeUInt32BE(ots.type, 0);
  sig.set(C, 4);
  for (let i = 0; i < ots.p; i++) {
    const x = prf(I, q, i, 0xff, seed);
    chain(I, q, i, x, 0, a[i]).copy(sig, 4 + HASH_LEN * (i + 1));
  }
  return sig;
}
