// HSS keys in memory (RFC 8554 §6): generation, the public key, leaf accounting and the
// two halves of a signature: reserveLeaf() advances the counters (the caller persists the
// result) and signReserved() then signs with the leaf that was reserved. Keeping them apart
// is what lets the file signer write the new counter to disk before any signature exists.
import { randomBytes } from "node:crypto";
import { FwsealError } from "../../errors.js";
import { HASH_LEN, I_LEN, LMS_PUB_LEN, MAX_LEVELS, lmotsByWidth, lmsByHeight, lmsSigLen } from "./params.js";
import { LmsTree, type LmsSecret } from "./lms-tree.js";
import { prf } from "./lm-ots.js";
import type { HssLevel, HssPrivateKey } from "./private-key-file.js";

/** What a new key is made of: one tree height per level (1 or 2 levels) and a Winternitz width. */
export interface HssKeySpec {
  /** LMS tree height of each level, top first (5, 10, 15 or 20). */
  heights: number[];
  /** LM-OTS Winternitz width (1, 2, 4 or 8), the same at every level. */
  w: number;
  /** Warn when fewer signatures remain (0 or absent: below 1% of the total). */
  warnBelow?: number;
}

// Derivations of a child tree from its parent's SEED, I and the parent leaf that signs it,
// in the Appendix A layout with element numbers no LM-OTS key uses (p <= 265).
const CHILD_SEED = 0xfffe;
const CHILD_I = 0xffff;
const CHILD_C = 0xfffd;

function childSecret(parent: LmsSecret, q: number, heights: number[], level: number): LmsSecret {
  return {
    lms: lmsByHeight(heights[level]),
    ots: parent.ots,
    seed: prf(parent.I, q, CHILD_SEED, 0xff, parent.seed),
    I: prf(parent.I, q, CHILD_I, 0xff, parent.seed).subarray(0, I_LEN)
  };
}

/**
 * A fresh child level signed by leaf q of `parent`. The randomizer of that signature is
 * derived, not random: after a crash before the new state was saved, the same leaf signs
 * the same child again and yields the very same signature, so no one-time key ever signs
 * two different messages.
 */
function makeChild(parent: LmsTree, q: number, heights: number[], level: number, progress?: (done: number, total: number) => void): HssLevel {
  const tree = LmsTree.generate(childSecret(parent.secret, q, heights, level), progress);
  const C = prf(parent.secret.I, q, CHILD_C, 0xff, parent.secret.seed);
  return { tree, next: 0, signedBy: parent.sign(q, C, tree.publicKey()) };
}

/** Generate a key: random top-level SEED and I, every tree hashed once. `progress` reports subtrees done. */
export function generateHssKey(spec: HssKeySpec, progress?: (done: number, total: number) => void): HssPrivateKey {
  if (spec.heights.length < 1 || spec.heights.length > MAX_LEVELS) throw new FwsealError("USAGE", `--levels ${spec.heights.length}: HSS keys have 1 or 2 levels`);
  const ots = lmotsByWidth(spec.w);
  const top: LmsSecret = { lms: lmsByHeight(spec.heights[0]), ots, I: randomBytes(I_LEN), seed: randomBytes(HASH_LEN) };
  const levels: HssLevel[] = [{ tree: LmsTree.generate(top, progress), next: 0, signedBy: new Uint8Array(0) }];
  if (spec.heights.length === 2) {
    levels.push(makeChild(levels[0].tree, 0, spec.heights, 1, progress));
    levels[0].next = 1;
  }
  return { levels, warnBelow: spec.warnBelow ?? 0 };
}

/** The HSS public key: u32str(L) || the top level's LMS public key (60 bytes). */
export function hssPublicKey(key: HssPrivateKey): Uint8Array {
  const top = key.levels[0].tree.publicKey();
  const pk = Buffer.alloc(4 + top.length);
  pk.writeUInt32BE(key.levels.length, 0);
  pk.set(top, 4);
  return new Uint8Array(pk);
}

/** Leaf accounting of a key: signatures made (= the next global leaf index), total and remaining. */
export interface LeafCounts {
  /** Global index of the next leaf; every index below it has been used (or lost). */
  next: number;
  total: number;
  remaining: number;
  /** Remaining count below which the key warns. */
  warnBelow: number;
  low: boolean;
}

/** Global index of the bottom leaf q under the top leaf that signed the current bottom tree. */
function globalIndex(key: HssPrivateKey, bottomQ: number): number {
  if (key.levels.length === 1) return bottomQ;
  return (key.levels[0].next - 1) * key.levels[1].tree.leaves + bottomQ;
}

/** How many signatures the key has made and has left. */
export function leafCounts(key: HssPrivateKey): LeafCounts {
  const total = key.levels.reduce((n, lv) => n * lv.tree.leaves, 1);
  const bottom = key.levels[key.levels.length - 1];
  const next = globalIndex(key, bottom.next);
  const remaining = total - next;
  const warnBelow = key.warnBelow > 0 ? key.warnBelow : Math.ceil(total / 100);
  return { next, total, remaining, warnBelow, low: remaining < warnBelow };
}

/** A leaf taken for one signature, and the key state that no longer offers it. */
export interface Reservation {
  /** The state to persist before signing. */
  after: HssPrivateKey;
  /** Leaf of the bottom tree to sign with. */
  q: number;
  /** Its global index (what the audit log records). */
  globalLeaf: number;
}

/**
 * Take the next leaf. When the bottom tree of a two-level key is used up, the next top leaf
 * signs a new bottom tree first. Throws KEY_STATE when every leaf is used.
 */
export function reserveLeaf(key: HssPrivateKey, heights: number[], what: string): Reservation {
  const levels = key.levels.map((lv) => ({ ...lv }));
  const b = levels.length - 1;
  if (levels[b].next >= levels[b].tree.leaves) {
    if (b === 0 || levels[0].next >= levels[0].tree.leaves) {
      throw new FwsealError("KEY_STATE", `${what}: HSS/LMS key exhausted: all ${leafCounts(key).total} one-time signatures are used; generate a new key`);
    }
    levels[1] = makeChild(levels[0].tree, levels[0].next, heights, 1);
    levels[0].next += 1;
  }
  const q = levels[b].next;
  levels[b].next = q + 1;
  const after = { levels, warnBelow: key.warnBelow };
  return { after, q, globalLeaf: globalIndex(after, q) };
}

/** Bytes of every HSS signature the key makes: Nspk, each level's LMS signature, the signed lower public keys. */
export function hssSignatureLength(key: HssPrivateKey): number {
  let n = 4;
  key.levels.forEach((lv, i) => {
    n += lmsSigLen(lv.tree.secret.lms, lv.tree.secret.ots);
    if (i > 0) n += LMS_PUB_LEN;
  });
  return n;
}

/** The tree heights of a key, top first. */
export function keyHeights(key: HssPrivateKey): number[] {
  return key.levels.map((lv) => lv.tree.secret.lms.h);
}

/** The HSS signature (RFC 8554 §6.2) of `message` with the reserved leaf of `r.after`. Fresh random C. */
export function signReserved(r: Reservation, message: Uint8Array): Uint8Array {
  const levels = r.after.levels;
  const parts: Uint8Array[] = [];
  const nspk = Buffer.alloc(4);
  nspk.writeUInt32BE(levels.length - 1, 0);
  parts.push(nspk);
  for (let i = 1; i < levels.length; i++) parts.push(levels[i].signedBy, levels[i].tree.publicKey());
  parts.push(levels[levels.length - 1].tree.sign(r.q, randomBytes(HASH_LEN), message));
  return new Uint8Array(Buffer.concat(parts));
}
