// What an HSS/LMS private key file says about itself, read without its lock and without the
// signing side (hss-signer.ts): `inspect` of a key file and `keygen`'s report. Signing
// re-reads the file under its lock.
import * as fsp from "node:fs/promises";
import { FwsealError, inputError } from "../../errors.js";
import { hssPublicKey, leafCounts, type LeafCounts } from "./hss-key.js";
import { isHssPrivateKeyPem, privateKeyFromPem, type HssPrivateKey } from "./private-key-file.js";
import { keyIdHex } from "../keys.js";

/** The text of the key file at `keyPath`; unreadable: FwsealError naming the file. */
export async function readKeyText(keyPath: string): Promise<string> {
  try {
    return await fsp.readFile(keyPath, "latin1");
  } catch (e) {
    throw inputError(keyPath, e);
  }
}

/** Read an HSS/LMS private key file (no lock: for inspection; signing re-reads under the lock). */
export async function readHssPrivateKey(keyPath: string): Promise<HssPrivateKey> {
  const text = await readKeyText(keyPath);
  if (!isHssPrivateKeyPem(text)) throw new FwsealError("KEY_WRONG_TYPE", `${keyPath}: not an fwseal HSS/LMS private key`);
  return privateKeyFromPem(text, keyPath);
}

/** What `inspect` and `keygen` show about an HSS/LMS key: parameters and the leaf counts. */
export interface HssKeyInfo extends LeafCounts {
  keyId: string;
  publicKey: Uint8Array;
  levels: { lms: string; lmots: string; height: number; nextLeaf: number }[];
}

/** Parameters and counts of a private key. */
export function hssKeyInfo(key: HssPrivateKey): HssKeyInfo {
  const publicKey = hssPublicKey(key);
  return {
    keyId: keyIdHex(publicKey),
    publicKey,
    levels: key.levels.map((lv) => ({ lms: lv.tree.secret.lms.name, lmots: lv.tree.secret.ots.name, height: lv.tree.secret.lms.h, nextLeaf: lv.next })),
    ...leafCounts(key)
  };
}

/** One-line warning when a key is running out of signatures, or null. */
export function lowCountWarning(info: LeafCounts): string | null {
  if (info.remaining === 0) return `warning: HSS/LMS key exhausted: all ${info.total} one-time signatures are used`;
  if (!info.low) return null;
  return `warning: HSS/LMS key has only ${info.remaining} of ${info.total} signatures left (threshold ${info.warnBelow}); prepare its successor`;
}
