// One LMS tree (RFC 8554 §5) held as the roots of its lowest subtrees. Key generation hashes
// every leaf once and keeps only the 2^(h-s) roots of the height-s subtrees; a signature then
// recomputes the one subtree holding its leaf (2^s one-time public keys) for the lower part
// of the authentication path and takes the upper part from the stored roots. s is chosen so
// that one subtree costs about 2^20 chain hashes whatever the Winternitz width: key files
// stay small (at most 2^14 roots, 512 KiB, for height 20 with W8) and a signature costs well
// under a second instead of a whole tree.
import { createHash } from "node:crypto";
import { D_INTR, D_LEAF, HASH_LEN, I_LEN, LMS_PUB_LEN, lmsSigLen, type LmotsParams, type LmsParams } from "./params.js";
import { lmotsPublicKey, lmotsSign } from "./lm-ots.js";
import { FwsealError } from "../../errors.js";

/** Chain hashes one subtree may cost at signing time (log2). */
const SUBTREE_BUDGET_LOG2 = 20;

/** The subtree height for a tree of these parameters (see the file comment). */
export function subtreeHeight(lms: LmsParams, ots: LmotsParams): number {
  const leafCost = Math.log2(ots.p * (1 << ots.w));
  return Math.max(1, Math.min(lms.h, Math.floor(SUBTREE_BUDGET_LOG2 - leafCost)));
}

function nodeHead(I: Uint8Array, r: number, d: number): Buffer {
  const head = Buffer.allocUnsafe(I_LEN + 6);
  head.set(I, 0);
  head.writeUInt32BE(r >>> 0, I_LEN);
  head.writeUInt16BE(d, I_LEN + 4);
  return head;
}

/** Leaf node r: H(I || u32str(r) || u16str(D_LEAF) || K). */
export function leafNode(I: Uint8Array, r: number, K: Uint8Array): Buffer {
  return createHash("sha256").update(nodeHead(I, r, D_LEAF)).update(K).digest();
}

/** Interior node r: H(I || u32str(r) || u16str(D_INTR) || left || right). */
export function interiorNode(I: Uint8Array, r: number, left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(nodeHead(I, r, D_INTR)).update(left).update(right).digest();
}

/** The secret half of one LMS key: parameters, I and SEED. */
export interface LmsSecret {
  lms: LmsParams;
  ots: LmotsParams;
  I: Uint8Array;
  seed: Uint8Array;
}

/** Nodes of subtree t (heap order, index 1 is its root) of a tree with subtree height s. */
function computeSubtree(k: LmsSecret, s: number, t: number): Buffer {
  const h = k.lms.h;
  const leaves = 1 << s;
  const nodes = Buffer.alloc(2 * leaves * HASH_LEN);
  for (let x = 0; x < leaves; x++) {
    const q = t * leaves + x;
    leafNode(k.I, (1 << h) + q, lmotsPublicKey(k.ots, k.I, k.seed, q)).copy(nodes, (leaves + x) * HASH_LEN);
  }
  const base = (1 << (h - s)) + t;
  for (let local = leaves - 1; local >= 1; local--) {
    const d = 31 - Math.clz32(local);
    const r = base * (1 << d) + (local - (1 << d));
    const left = nodes.subarray(2 * local * HASH_LEN, (2 * local + 1) * HASH_LEN);
    const right = nodes.subarray((2 * local + 1) * HASH_LEN, (2 * local + 2) * HASH_LEN);
    interiorNode(k.I, r, left, right).copy(nodes, local * HASH_LEN);
  }
  return nodes;
}

/** Nodes 1 .. 2^(h-s+1)-1 of the tree above the subtrees, from their roots. */
function computeUpperTree(k: LmsSecret, roots: Uint8Array): Buffer {
  const n = roots.length / HASH_LEN;
  const nodes = Buffer.alloc(2 * n * HASH_LEN);
  nodes.set(roots, n * HASH_LEN);
  for (let r = n - 1; r >= 1; r--) {
    interiorNode(k.I, r, nodes.subarray(2 * r * HASH_LEN, (2 * r + 1) * HASH_LEN), nodes.subarray((2 * r + 1) * HASH_LEN, (2 * r + 2) * HASH_LEN)).copy(nodes, r * HASH_LEN);
  }
  return nodes;
}

/** An LMS private key with its cached subtree roots; signs any leaf it is told to. */
export class LmsTree {
  readonly secret: LmsSecret;
  /** Subtree height s. */
  readonly s: number;
  /** The 2^(h-s) subtree roots, 32 bytes each. */
  readonly roots: Uint8Array;
  private readonly upper: Buffer;
  private cachedIndex = -1;
  private cachedSubtree: Buffer | null = null;

  constructor(secret: LmsSecret, s: number, roots: Uint8Array) {
    if (s < 1 || s > secret.lms.h || roots.length !== (1 << (secret.lms.h - s)) * HASH_LEN) {
      throw new FwsealError("KEY_CORRUPT", "HSS/LMS private key: subtree roots do not match the tree height");
    }
    this.secret = secret;
    this.s = s;
    this.roots = roots;
    this.upper = computeUpperTree(secret, roots);
  }

  /** Hash every leaf of a new tree (the whole cost of key generation). `progress` gets done/total subtrees. */
  static generate(secret: LmsSecret, progress?: (done: number, total: number) => void): LmsTree {
    const s = subtreeHeight(secret.lms, secret.ots);
    const count = 1 << (secret.lms.h - s);
    const roots = Buffer.alloc(count * HASH_LEN);
    for (let t = 0; t < count; t++) {
      roots.set(LmsTree.subtreeRoot(secret, s, t), t * HASH_LEN);
      if (progress) progress(t + 1, count);
    }
    return new LmsTree(secret, s, roots);
  }

  /** The root of subtree t (height s) of a tree: the work of key generation for 2^s leaves. */
  static subtreeRoot(secret: LmsSecret, s: number, t: number): Uint8Array {
    return new Uint8Array(computeSubtree(secret, s, t).subarray(HASH_LEN, 2 * HASH_LEN));
  }

  /** T[1], the tree root. */
  get root(): Uint8Array {
    return this.upper.subarray(HASH_LEN, 2 * HASH_LEN);
  }

  /** Number of leaves (one-time keys). */
  get leaves(): number {
    return 2 ** this.secret.lms.h;
  }

  /** The LMS public key: u32str(LMS type) || u32str(LM-OTS type) || I || T[1]. */
  publicKey(): Uint8Array {
    const pk = Buffer.alloc(LMS_PUB_LEN);
    pk.writeUInt32BE(this.secret.lms.type, 0);
    pk.writeUInt32BE(this.secret.ots.type, 4);
    pk.set(this.secret.I, 8);
    pk.set(this.root, 8 + I_LEN);
    return pk;
  }

  /**
   * The LMS signature of `message` with leaf q and randomizer C (RFC 8554 §5.4.1). The caller
   * owns the leaf bookkeeping: this method signs whatever leaf it is given.
   */
  sign(q: number, C: Uint8Array, message: Uint8Array): Uint8Array {
    const { lms, ots, I, seed } = this.secret;
    if (!Number.isInteger(q) || q < 0 || q >= this.leaves) throw new FwsealError("INTERNAL", `LMS leaf ${q} out of range`);
    const sig = Buffer.alloc(lmsSigLen(lms, ots));
    sig.writeUInt32BE(q, 0);
    lmotsSign(ots, I, seed, q, C, message).copy(sig, 4);
    let off = 4 + ots.sigLen;
    sig.writeUInt32BE(lms.type, off);
    off += 4;
    const t = Math.floor(q / (1 << this.s));
    const sub = this.subtree(t);
    const nodeNum = 2 ** lms.h + q;
    const base = (1 << (lms.h - this.s)) + t;
    for (let i = 0; i < lms.h; i++) {
      const g = Math.floor(nodeNum / 2 ** i) ^ 1;
      let src: Buffer;
      if (i < this.s) {
        const local = g - base * (1 << (this.s - i)) + (1 << (this.s - i));
        src = sub.subarray(local * HASH_LEN, (local + 1) * HASH_LEN);
      } else {
        src = this.upper.subarray(g * HASH_LEN, (g + 1) * HASH_LEN);
      }
      sig.set(src, off);
      off += HASH_LEN;
    }
    return sig;
  }

  private subtree(t: number): Buffer {
    if (this.cachedIndex !== t || this.cachedSubtree === null) {
      const sub = computeSubtree(this.secret, this.s, t);
      if (!sub.subarray(HASH_LEN, 2 * HASH_LEN).equals(Buffer.from(this.roots.subarray(t * HASH_LEN, (t + 1) * HASH_LEN)))) {
        throw new FwsealError("KEY_CORRUPT", "HSS/LMS private key: a cached subtree root does not match its recomputation (corrupt key file)");
      }
      this.cachedIndex = t;
      this.cachedSubtree = sub;
    }
    return this.cachedSubtree;
  }
}
