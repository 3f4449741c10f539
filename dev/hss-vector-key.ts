// Deterministic HSS/LMS keys for golden vectors and tests: one level, the tree's SEED and I
// derived from a published name, and the randomizer C of every signature derived from the
// leaf and the message, so regenerating the vectors gives identical bytes. Test use only: a
// real key (host/keys/hss) takes SEED and I from the system's random source and persists its
// leaf counter before each signature.
import { createHash } from "node:crypto";
import { LmsTree } from "../host/keys/hss/lms-tree.js";
import { lmotsByWidth, lmsByHeight, lmsSigLen } from "../host/keys/hss/params.js";

const sha256 = (d: Uint8Array): Buffer => createHash("sha256").update(d).digest();

/** An HSS/LMS signer (L = 1) whose key and signatures are fixed by its name and call order. */
export class SeededHssKey {
  readonly name: string;
  /** HSS public key, 60 bytes (u32 L = 1 || LMS public key). */
  readonly publicKey: Uint8Array;
  readonly signatureLength: number;
  private readonly tree: LmsTree;
  private next = 0;

  /** Key `name` with tree height `h` and Winternitz width `w`: SEED = SHA-256("fwseal test hss seed " + name). */
  constructor(name: string, h = 5, w = 4) {
    this.name = name;
    const seed = sha256(new TextEncoder().encode(`fwseal test hss seed ${name}`));
    const I = sha256(new TextEncoder().encode(`fwseal test hss I ${name}`)).subarray(0, 16);
    this.tree = LmsTree.generate({ lms: lmsByHeight(h), ots: lmotsByWidth(w), seed, I });
    const pub = this.tree.publicKey();
    this.publicKey = new Uint8Array(Buffer.concat([Buffer.from([0, 0, 0, 1]), pub]));
    this.signatureLength = 4 + lmsSigLen(lmsByHeight(h), lmotsByWidth(w));
  }

  /** The HSS signature of `message` with the next leaf (Nspk = 0 || LMS signature). */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const q = this.next++;
    const qb = Buffer.alloc(4);
    qb.writeUInt32BE(q, 0);
    const C = sha256(Buffer.concat([Buffer.from(this.name), qb, message]));
    return new Uint8Array(Buffer.concat([Buffer.alloc(4), this.tree.sign(q, C, message)]));
  }
}
