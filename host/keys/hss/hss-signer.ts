// HSS/LMS keys in files: generation (<prefix>.key, <prefix>.pub) and the stateful signer.
// A signature is made in this order, under the key's lock file:
//   1. read the key file and take the next leaf (reserveLeaf);
//   2. refuse when the audit log already records that leaf or a later one for this key
//      (a key file restored from an old backup would sign with used leaves again);
//   3. durably write the advanced counter (replaceFileDurably);
//   4. append an "hss-sign" audit record naming the leaf, when a log is configured;
//   5. compute the signature, check it with the host verifier, return it.
// A crash anywhere loses at most the reserved leaf; no leaf is ever handed out twice.
import * as fsp from "node:fs/promises";
import { FwsealError } from "../../errors.js";
import { appendAuditRecord, auditLogPath } from "../../audit/audit-log.js";
import { generateHssKey, hssPublicKey, hssSignatureLength, keyHeights, leafCounts, reserveLeaf, signReserved, type HssKeySpec, type LeafCounts } from "./hss-key.js";
import { hssKeyInfo, readHssPrivateKey, readKeyText, type HssKeyInfo } from "./key-info.js";
import { privateKeyFromPem, privateKeyToPem, type HssPrivateKey } from "./private-key-file.js";
import { highestAuditedLeaf, replaceFileDurably, withKeyLock } from "./key-state.js";
import { hssPublicKeyToPem } from "./public-key.js";
import { keyIdHex, refuseExistingFiles } from "../keys.js";
import { verifyHss } from "./hss-verify.js";

/** Options of the file signer. */
export interface HssSignerOptions {
  /** Audit log holding the highest leaf per key (default $FWSEAL_AUDIT_LOG; none: no backup check). */
  audit?: string;
  /** Operator name for the audit records. */
  operator?: string;
  /** How long to wait for another signer's lock, ms (default 10000). */
  lockWaitMs?: number;
  /** Called after the counter is on disk and before the signature is computed (tests stop here). */
  afterPersist?: (globalLeaf: number) => void;
}

/** A Signer-like object over an HSS/LMS private key file (see the file comment for the order of steps). */
export class HssLmsFileSigner {
  readonly keyPath: string;
  /** HSS public key (60 bytes). */
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  private readonly opts: HssSignerOptions;
  private cached: HssPrivateKey | null;
  /** Leaf counts after the last signature (or at opening). */
  counts: LeafCounts;
  /** Bytes of each signature this key makes (fixed by its parameter sets). */
  readonly signatureLength: number;

  private constructor(keyPath: string, key: HssPrivateKey, opts: HssSignerOptions) {
    this.keyPath = keyPath;
    this.publicKey = hssPublicKey(key);
    this.keyId = keyIdHex(this.publicKey);
    this.opts = opts;
    this.cached = key;
    this.counts = leafCounts(key);
    this.signatureLength = hssSignatureLength(key);
  }

  /** Open a key file for signing. */
  static async open(keyPath: string, opts: HssSignerOptions = {}): Promise<HssLmsFileSigner> {
    return new HssLmsFileSigner(keyPath, await readHssPrivateKey(keyPath), opts);
  }

  /** Sign `message`: reserve and persist a leaf first, then sign (HSS signature bytes). */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    return withKeyLock(this.keyPath, this.opts.lockWaitMs ?? 10000, async () => {
      const key = this.reload(await readKeyText(this.keyPath));
      if (!Buffer.from(hssPublicKey(key)).equals(Buffer.from(this.publicKey))) {
        throw new FwsealError("KEY_STATE", `${this.keyPath}: the key file now holds a different key than when it was opened`);
      }
      const r = reserveLeaf(key, keyHeights(key), this.keyPath);
      const log = auditLogPath(this.opts.audit);
      if (log !== undefined) {
        const highest = await highestAuditedLeaf(log, this.keyId);
        if (r.globalLeaf <= highest) {
          throw new FwsealError(
            "KEY_STATE",
            `${this.keyPath}: refusing to sign: leaf ${r.globalLeaf} of HSS/LMS key ${this.keyId} was already used (the audit log ${log} records leaf ${highest}); the key file is an old copy (restored backup?)`
          );
        }
      }
      replaceFileDurably(this.keyPath, privateKeyToPem(r.after), 0o600);
      this.cached = r.after;
      this.counts = leafCounts(r.after);
      if (log !== undefined) {
        await appendAuditRecord(log, {
          op: "hss-sign",
          keyIds: [this.keyId],
          keySource: "file",
          summary: { alg: "HSS-LMS", hssLeaf: r.globalLeaf, remaining: this.counts.remaining },
          operator: this.opts.operator
        });
      }
      this.opts.afterPersist?.(r.globalLeaf);
      const sig = signReserved(r, message);
      if (!verifyHss(this.publicKey, message, sig)) throw new FwsealError("INTERNAL", `${this.keyPath}: HSS/LMS self-check failed: the signature does not verify (damaged key material?)`);
      return sig;
    });
  }

  /** Parse the key file, reusing the trees (and their cached subtree) of the previous read when they are the same. */
  private reload(text: string): HssPrivateKey {
    const key = privateKeyFromPem(text, this.keyPath);
    const prev = this.cached;
    if (prev !== null) {
      key.levels = key.levels.map((lv, i) => {
        const old = prev.levels[i];
        const same = old !== undefined && Buffer.from(old.tree.secret.I).equals(Buffer.from(lv.tree.secret.I));
        return same ? { ...lv, tree: old.tree } : lv;
      });
    }
    return key;
  }

  // Keep the key out of console.log / util.inspect / JSON.
  toJSON(): object {
    return { publicKey: Buffer.from(this.publicKey).toString("hex"), keyId: this.keyId };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `HssLmsFileSigner(${this.keyId})`;
  }
}

/** Options of HSS/LMS keygen. */
export interface HssKeygenOptions extends HssKeySpec {
  /** Output prefix: writes <out>.key (0600) and <out>.pub. */
  out: string;
  force?: boolean;
  /** Reports subtrees hashed so far. */
  progress?: (done: number, total: number) => void;
}

/** What HSS/LMS keygen wrote and how long it took. */
export interface HssKeygenResult extends HssKeyInfo {
  keyPath: string;
  pubPath: string;
  seconds: number;
}

/** Generate an HSS/LMS key pair and write <out>.key (mode 0600, durable) and <out>.pub (SPKI PEM). */
export async function keygenHssLms(opts: HssKeygenOptions): Promise<HssKeygenResult> {
  const keyPath = `${opts.out}.key`;
  const pubPath = `${opts.out}.pub`;
  if (!opts.force) await refuseExistingFiles([keyPath, pubPath]);
  const t0 = process.hrtime.bigint();
  const key = generateHssKey(opts, opts.progress);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Generation runs without a break (seconds to hours): a Ctrl-C pressed meanwhile waits in the
  // event loop. Let it run now, before a file exists, so an interrupted keygen leaves no key
  // pair behind (the CLI's handler exits 130) rather than writing one and exiting 0. A short
  // timer, not setImmediate: the loop must reach its poll phase, where the signal is read.
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  replaceFileDurably(keyPath, privateKeyToPem(key), 0o600, !!opts.force);
  const info = hssKeyInfo(key);
  try {
    replaceFileDurably(pubPath, hssPublicKeyToPem(info.publicKey), 0o644, !!opts.force);
  } catch (e) {
    await fsp.unlink(keyPath).catch(() => undefined); // no half key pair left behind
    throw e;
  }
  return { ...info, keyPath, pubPath, seconds };
}
