// A small reference LM-OTS / LMS signer (RFC 8554 §4.5, §5.4, with the pseudorandom key
// derivation of its Appendix A), test-only and written for clarity, not speed. It lets the
// tests turn the keygen/sign vectors of test/vectors/hss-lms/lms.vec and lmots.vec (seed in,
// public key and SHA-256 of the signature out) into signatures for the device verifier:
// the signature's hash must match the vector before the verifier sees it.
import { createHash } from "node:crypto";

const OTS: Record<number, { w: number; p: number; ls: number }> = {
  1: { w: 1, p: 265, ls: 7 }, 2: { w: 2, p: 133, ls: 6 }, 3: { w: 4, p: 67, ls: 4 }, 4: { w: 8, p: 34, ls: 0 },
};
const HEIGHT: Record<number, number> = { 5: 5, 6: 10, 7: 15, 8: 20, 9: 25 };
// The derivation index of the randomizer C in the Appendix A scheme (as in the vectors' source).
const C_INDEX = 0xfffd;

function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; }
function u16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
function u8(v: number): Buffer { return Buffer.from([v]); }
function H(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

// The p base-2^w digits of Q || Cksm(Q) (RFC 8554 §3.1.3, §4.4).
function digits(type: number, q32: Buffer): number[] {
  const { w, p, ls } = OTS[type];
  const top = (1 << w) - 1;
  const coef = (s: Buffer, i: number): number => (s[(i * w) >> 3] >> (8 - (w * (i % (8 / w)) + w))) & top;
  let sum = 0;
  for (let i = 0; i < 256 / w; i++) sum += top - coef(q32, i);
  const s = Buffer.concat([q32, u16((sum << ls) & 0xffff)]);
  const out: number[] = [];
  for (let i = 0; i < p; i++) out.push(coef(s, i));
  return out;
}

// Chain i of leaf q from step `from` up to (not including) step `to`.
function chain(I: Buffer, q: number, i: number, from: number, to: number, x: Buffer): Buffer {
  let t = x;
  for (let j = from; j < to; j++) t = H(I, u32(q), u16(i), u8(j), t);
  return t;
}

function secret(I: Buffer, q: number, i: number, seed: Buffer): Buffer {
  return H(I, u32(q), u16(i), u8(0xff), seed);
}

/** The LM-OTS public key K of leaf q (32 bytes). */
export function otsPublicKey(type: number, I: Buffer, q: number, seed: Buffer): Buffer {
  const { w, p } = OTS[type];
  const z: Buffer[] = [];
  for (let i = 0; i < p; i++) z.push(chain(I, q, i, 0, (1 << w) - 1, secret(I, q, i, seed)));
  return H(I, u32(q), u16(0x8080), ...z);
}

/** The LM-OTS signature of leaf q over msg: u32 type || C || y[0..p). */
export function otsSign(type: number, I: Buffer, q: number, seed: Buffer, msg: Uint8Array): Buffer {
  const C = H(I, u32(q), u16(C_INDEX), u8(0xff), seed);
  const a = digits(type, H(I, u32(q), u16(0x8181), C, msg));
  return Buffer.concat([u32(type), C, ...a.map((ai, i) => chain(I, q, i, 0, ai, secret(I, q, i, seed)))]);
}

/** An LMS tree built from its leaves' OTS public keys: node r at index r (root at 1). */
export function lmsTree(I: Buffer, h: number, leafKey: (q: number) => Buffer): Buffer[] {
  const T: Buffer[] = [];
  for (let q = 0; q < 1 << h; q++) T[(1 << h) + q] = H(I, u32((1 << h) + q), u16(0x8282), leafKey(q));
  for (let r = (1 << h) - 1; r >= 1; r--) T[r] = H(I, u32(r), u16(0x8383), T[2 * r], T[2 * r + 1]);
  return T;
}

/** The LMS public key: u32 lmsType || u32 otsType || I || root. */
export function lmsPublicKey(lmsType: number, otsType: number, I: Buffer, tree: Buffer[]): Buffer {
  return Buffer.concat([u32(lmsType), u32(otsType), I, tree[1]]);
}

/** The LMS signature of leaf q with a given OTS signature: u32 q || ots || u32 lmsType || path. */
export function lmsSignature(lmsType: number, q: number, otsSig: Buffer, tree: Buffer[]): Buffer {
  const h = HEIGHT[lmsType];
  const path: Buffer[] = [];
  for (let r = (1 << h) + q; r > 1; r >>= 1) path.push(tree[r ^ 1]);
  return Buffer.concat([u32(q), otsSig, u32(lmsType), ...path]);
}

/** The height of an LMS type. */
export function lmsHeight(lmsType: number): number {
  return HEIGHT[lmsType];
}

/** SHA-256 of bytes, lowercase hex (the vectors' HashSig). */
export function sha256Hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** An HSS public key / signature with one level around an LMS public key / signature. */
export function singleLevelHss(lmsPk: Buffer, lmsSig: Buffer): { pk: Uint8Array; sig: Uint8Array } {
  return { pk: new Uint8Array(Buffer.concat([u32(1), lmsPk])), sig: new Uint8Array(Buffer.concat([u32(0), lmsSig])) };
}

/** A single-level HSS case made from a keygen/sign vector, with what to check against the vector. */
export interface DerivedCase {
  name: string;
  pk: Uint8Array;
  sig: Uint8Array;
  msg: Uint8Array;
  /** SHA-256 of the LMS (lms.vec) or LM-OTS (lmots.vec) signature made here, and the vector's. */
  sigHash: string;
  wantSigHash: string;
  /** The public key made here (LMS key, or LM-OTS K) and the vector's, lowercase hex. */
  madeKey: string;
  wantKey: string;
}

/**
 * The cases of lms.vec (LMS keys H5/W1, H10/W2, and RFC 8554 test case 2's H5/W8 second
 * level, signed at leaf q from the seed) and of lmots.vec (LM-OTS W1..W8 signatures, placed at
 * their leaf q of an H5 tree whose other leaves are filler), each as a one-level HSS signature.
 */
export function derivedCases(vectors: { file: string; fields: Record<string, string>; name: string }[]): DerivedCase[] {
  return vectors.map((v) => {
    const f = v.fields;
    const seed = Buffer.from(f.Seed, "hex"), msg = Buffer.from(f.Msg, "hex"), q = Number(f.q);
    if (v.file === "lms.vec") {
      const pk = Buffer.from(f.PublicKey, "hex");
      const lmsType = pk.readUInt32BE(0), otsType = pk.readUInt32BE(4), I = pk.subarray(8, 24);
      const tree = lmsTree(I, lmsHeight(lmsType), (r) => otsPublicKey(otsType, I, r, seed));
      const lmsSig = lmsSignature(lmsType, q, otsSign(otsType, I, q, seed, msg), tree);
      const made = lmsPublicKey(lmsType, otsType, I, tree);
      return { name: `lms.vec: ${v.name}`, ...singleLevelHss(pk, lmsSig), msg: new Uint8Array(msg),
        sigHash: sha256Hex(lmsSig), wantSigHash: f.HashSig, madeKey: made.toString("hex"), wantKey: f.PublicKey };
    }
    const type = Number(f.TypeId), I = Buffer.from(f.I, "hex"), K = Buffer.from(f.PublicKey, "hex");
    const ots = otsSign(type, I, q, seed, msg);
    // The tree holds the vector's K (not one computed here) at leaf q.
    const tree = lmsTree(I, 5, (r) => (r === q ? K : H(Buffer.from("filler leaf"), u32(r))));
    return { name: `lmots.vec: ${v.name} in an H5 tree`, ...singleLevelHss(lmsPublicKey(5, type, I, tree), lmsSignature(5, q, ots, tree)),
      msg: new Uint8Array(msg), sigHash: sha256Hex(ots), wantSigHash: f.HashSig,
      madeKey: otsPublicKey(type, I, q, seed).toString("hex"), wantKey: f.PublicKey };
  });
}
