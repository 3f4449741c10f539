// The fwseal HSS/LMS private key file: PEM armour "FWSEAL HSS-LMS PRIVATE KEY" around a
// binary body (all integers big-endian u32):
//
//   magic      8 bytes  "FWSHSS" 0x00 0x01 (format version 1)
//   L          u32      levels, 1 or 2
//   warnBelow  u32      warn when fewer signatures remain (0: below 1% of the total)
//   L level records, top level first:
//     lmsType  u32      RFC 8554 LMS type (5..8: LMS_SHA256_M32_H5..H20)
//     otsType  u32      RFC 8554 LM-OTS type (1..4: LMOTS_SHA256_N32_W1..W8)
//     I        16 bytes key pair identifier
//     SEED     32 bytes secret seed (RFC 8554 Appendix A derivation)
//     next     u32      next unused leaf of this tree (2^h: all used)
//     s        u32      height of the subtrees whose roots follow
//     sigLen   u32      bytes of the parent's LMS signature over this level's public key (0 at the top)
//     sig      sigLen bytes
//     roots    2^(h-s) x 32 bytes, the subtree roots (public values, cached to make signing cheap)
//   check      32 bytes SHA-256 of everything before it (catches truncation and bit rot)
//
// The counters are the state that makes the key safe: hss-signer.ts rewrites this file with
// the next leaf BEFORE it computes a signature. The bytes are secret (SEED): the file is
// written mode 0600 and never printed; errors about it name the path only.
import { createHash } from "node:crypto";
import { FwsealError } from "../../errors.js";
import { HASH_LEN, I_LEN, MAX_LEVELS, lmotsByType, lmsByType, lmsSigLen } from "./params.js";
import { LmsTree } from "./lms-tree.js";

/** PEM label of the private key file. */
export const HSS_PRIVATE_KEY_LABEL = "FWSEAL HSS-LMS PRIVATE KEY";
const MAGIC = Buffer.from([0x46, 0x57, 0x53, 0x48, 0x53, 0x53, 0x00, 0x01]);

/** One level of an HSS private key: its tree, its next leaf, the parent's signature over its public key. */
export interface HssLevel {
  tree: LmsTree;
  /** Next unused leaf (2^h when the tree is used up). */
  next: number;
  /** The parent's LMS signature over this level's LMS public key; empty at the top level. */
  signedBy: Uint8Array;
}

/** An HSS private key as the file holds it. */
export interface HssPrivateKey {
  levels: HssLevel[];
  /** Low-count warning threshold; 0 means 1% of the total. */
  warnBelow: number;
}

class Reader {
  private off = 0;
  constructor(private readonly b: Buffer, private readonly what: string) {}
  bytes(n: number): Buffer {
    if (this.off + n > this.b.length) throw corrupt(this.what, "truncated");
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return Buffer.from(v);
  }
  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  get atEnd(): boolean {
    return this.off === this.b.length;
  }
}

function corrupt(what: string, problem: string): FwsealError {
  return new FwsealError("KEY_CORRUPT", `${what}: not a valid fwseal HSS/LMS private key (${problem})`);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** The binary body of a private key file. */
export function encodePrivateKey(key: HssPrivateKey): Buffer {
  const parts: Buffer[] = [MAGIC, u32be(key.levels.length), u32be(key.warnBelow)];
  for (const lv of key.levels) {
    const { lms, ots, I, seed } = lv.tree.secret;
    parts.push(u32be(lms.type), u32be(ots.type), Buffer.from(I), Buffer.from(seed), u32be(lv.next), u32be(lv.tree.s));
    parts.push(u32be(lv.signedBy.length), Buffer.from(lv.signedBy), Buffer.from(lv.tree.roots));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

/** Parse and check a private key body; `what` names the file in errors. */
export function decodePrivateKey(bytes: Buffer, what: string): HssPrivateKey {
  if (bytes.length < MAGIC.length + HASH_LEN || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(what, "unknown format");
  const body = bytes.subarray(0, bytes.length - HASH_LEN);
  if (!createHash("sha256").update(body).digest().equals(bytes.subarray(bytes.length - HASH_LEN))) throw corrupt(what, "checksum mismatch: damaged or edited");
  const r = new Reader(body, what);
  r.bytes(MAGIC.length);
  const L = r.u32();
  if (L < 1 || L > MAX_LEVELS) throw corrupt(what, `${L} levels`);
  const warnBelow = r.u32();
  const levels: HssLevel[] = [];
  for (let i = 0; i < L; i++) {
    const lms = lmsByType(r.u32());
    const ots = lmotsByType(r.u32());
    if (lms === undefined || ots === undefined) throw corrupt(what, "unsupported parameter set");
    const I = r.bytes(I_LEN);
    const seed = r.bytes(HASH_LEN);
    const next = r.u32();
    const s = r.u32();
    if (next > 2 ** lms.h || s < 1 || s > lms.h) throw corrupt(what, "counter or subtree height out of range");
    const sigLen = r.u32();
    if (i === 0 ? sigLen !== 0 : sigLen !== lmsSigLen(levels[i - 1].tree.secret.lms, levels[i - 1].tree.secret.ots)) throw corrupt(what, "level signature length");
    const signedBy = r.bytes(sigLen);
    const roots = r.bytes((1 << (lms.h - s)) * HASH_LEN);
    levels.push({ tree: new LmsTree({ lms, ots, I, seed }, s, roots), next, signedBy });
  }
  if (!r.atEnd) throw corrupt(what, "trailing bytes");
  if (L === 2 && levels[0].next === 0) throw corrupt(what, "second level without a signing top leaf");
  return { levels, warnBelow };
}

/** PEM text of a private key (64-column base64). */
export function privateKeyToPem(key: HssPrivateKey): string {
  const b64 = encodePrivateKey(key).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${HSS_PRIVATE_KEY_LABEL}-----\n${b64}\n-----END ${HSS_PRIVATE_KEY_LABEL}-----\n`;
}

/** True when `text` is (starts like) an fwseal HSS/LMS private key file. */
export function isHssPrivateKeyPem(text: string): boolean {
  return text.trimStart().startsWith(`-----BEGIN ${HSS_PRIVATE_KEY_LABEL}-----`);
}

/** Parse private key PEM text; `what` names the file in errors. */
export function privateKeyFromPem(text: string, what: string): HssPrivateKey {
  const m = new RegExp(`-----BEGIN ${HSS_PRIVATE_KEY_LABEL}-----([A-Za-z0-9+/=\\s]*)-----END ${HSS_PRIVATE_KEY_LABEL}-----`).exec(text);
  if (m === null) throw corrupt(what, "no PEM block");
  return decodePrivateKey(Buffer.from(m[1].replace(/\s+/g, ""), "base64"), what);
}
