// RFC 9162 §2.1 Merkle tree hashing (the same as RFC 6962): leaf and node hashes, tree
// hashes of ranges, inclusion and consistency proofs and their verification. Pure logic:
// the hashes of complete subtrees come from a caller's reader (tiles on disk, over HTTP,
// or an array in memory), so a proof costs O(log^2 n) reads, never a walk over the tree.
import { createHash } from "node:crypto";

/** SHA-256 of the concatenated parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** The tree hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = sha256();

/**
 * Hash of the complete subtree of height `level` (2^level leaves) at position `index`
 * among the subtrees of that height: leaves [index * 2^level, (index + 1) * 2^level).
 */
export type SubtreeReader = (level: number, index: number) => Promise<Uint8Array>;

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** log2 of a power of two. */
function log2(k: number): number {
  let l = 0;
  while (2 ** l < k) l++;
  return l;
}

/**
 * MTH(D[start:end]) (RFC 9162 §2.1.1) where start is a multiple of the largest power of two
 * not above end - start, as every range of the RFC's recursion is.
 */
export async function rangeHash(read: SubtreeReader, start: number, end: number): Promise<Uint8Array> {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (Number.isInteger(Math.log2(n))) {
    const level = log2(n);
    if (start % n === 0) return read(level, start / n);
  }
  const k = splitPoint(n);
  return nodeHash(await rangeHash(read, start, start + k), await rangeHash(read, start + k, end));
}

/** The root hash of the tree of `size` leaves. */
export function treeHash(read: SubtreeReader, size: number): Promise<Uint8Array> {
  return rangeHash(read, 0, size);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[0:n]): the inclusion proof of leaf `index` in the tree of `size`. */
export async function inclusionProof(read: SubtreeReader, index: number, size: number): Promise<Uint8Array[]> {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path: Uint8Array[] = [];
  // Iterate down from the root, collecting siblings; the proof lists them leaf first.
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      path.push(await rangeHash(read, start + k, end));
      end = start + k;
    } else {
      path.push(await rangeHash(read, start, start + k));
      start += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]): the consistency proof from the tree of `m` leaves to that of `n`. */
export async function consistencyProof(read: SubtreeReader, m: number, n: number): Promise<Uint8Array[]> {
  if (!(m >= 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  if (m === 0 || m === n) return [];
  const out: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b), iteratively; siblings are appended after the recursion.
  const tail: Uint8Array[] = [];
  let start = 0;
  let end = n;
  let mm = m;
  let complete = true;
  for (;;) {
    const size = end - start;
    if (mm === size) {
      if (!complete) out.push(await rangeHash(read, start, end));
      break;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      tail.push(await rangeHash(read, start + k, end));
      end = start + k;
    } else {
      tail.push(await rangeHash(read, start, start + k));
      start += k;
      mm -= k;
      complete = false;
    }
  }
  return out.concat(tail.reverse());
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/**
 * RFC 9162 §2.1.3.2: the root hash that `proof` yields for the leaf hash at `index` in a
 * tree of `size`, or null if the proof has the wrong length for that position.
 */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Uint8Array | null {
  if (!(index >= 0 && index < size) || leaf.length !== 32) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** Does `proof` show the leaf hash at `index` in the tree of `size` with root `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusionProof(leaf, index, size, proof);
  return r !== null && equal(r, root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of size1 with root1 is a prefix of the
 * tree of size2 with root2? Equal sizes need an empty proof and equal roots. RFC 9162 defines
 * no proof from the empty tree (0 < m), so size1 = 0 is false: every tree extends the empty
 * one, and callers treat that case before asking for a proof.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(size1 > 0 && size1 <= size2)) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (proof.length === 0) return false;
  for (const p of proof) if (p.length !== 32) return false;
  let path = proof.slice();
  // size1 a power of two: its root is the first node of the path.
  if (Number.isInteger(Math.log2(size1))) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, root1) && equal(sr, root2);
}

/** A SubtreeReader over leaf hashes held in memory (tests, small logs). */
export function memoryReader(leaves: readonly Uint8Array[]): SubtreeReader {
  return async (level, index) => {
    const n = 2 ** level;
    return rangeHashSync(leaves, index * n, index * n + n);
  };
}

function rangeHashSync(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leaves[start];
  const k = splitPoint(n);
  return nodeHash(rangeHashSync(leaves, start, start + k), rangeHashSync(leaves, start + k, end));
}

/**
 * The hashes of the complete subtrees that make up the tree of `size` leaves, largest first
 * (a compact range over [0, size)): enough to extend the tree leaf by leaf and to compute
 * its root, in at most 63 hashes.
 */
export class CompactRange {
  size: number;
  readonly hashes: Uint8Array[];

  constructor(size = 0, hashes: Uint8Array[] = []) {
    this.size = size;
    this.hashes = hashes;
  }

  /** Adds the next leaf hash. */
  append(leaf: Uint8Array): void {
    let h = leaf;
    // Merge with equal-sized subtrees on the right edge: one per trailing 1 bit of size.
    let s = this.size;
    while (s % 2 === 1) {
      h = nodeHash(this.hashes.pop() as Uint8Array, h);
      s = Math.floor(s / 2);
    }
    this.hashes.push(h);
    this.size++;
  }

  /** The root hash of the tree so far. */
  root(): Uint8Array {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let r = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i], r);
    return r;
  }
}
