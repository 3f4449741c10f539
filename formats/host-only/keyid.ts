// Key IDs (formats/SPEC.md §6): the first 8 bytes of SHA-256(public key), for an Ed25519
// key (32 bytes) or an HSS/LMS key (the 60-byte RFC 8554 string); the COSE alg each kind of
// key signs with. Host side.
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { Limits, ALG_ED25519, ALG_HSS_LMS } from "../device-safe/limits.js";

/** A one-shot SHA-256. The host may pass node:crypto's for speed; default @noble/hashes. */
export type Sha256Fn = (data: Uint8Array) => Uint8Array;

/** SHA-256 from @noble/hashes (runs anywhere). */
export const defaultSha256: Sha256Fn = (data) => nobleSha256(data);

/** Key ID of a public key: 32-byte Ed25519 or 60-byte HSS/LMS. */
export function keyId(publicKey: Uint8Array, sha256: Sha256Fn = defaultSha256): Uint8Array {
  if (publicKey.length !== Limits.PUBLIC_KEY_LEN && publicKey.length !== Limits.HSS_PUBLIC_KEY_LEN) {
    throw new Error("a public key is 32 bytes (Ed25519) or 60 bytes (HSS/LMS)");
  }
  return sha256(publicKey).slice(0, Limits.KEY_ID_LEN);
}

/** Is `publicKey` an HSS/LMS key (60 bytes) rather than Ed25519 (32)? */
export function isHssKey(publicKey: Uint8Array): boolean {
  return publicKey.length === Limits.HSS_PUBLIC_KEY_LEN;
}

/** The COSE alg a key signs with: -19 (Ed25519) or -46 (HSS-LMS, RFC 8778). */
export function coseAlgForKey(publicKey: Uint8Array): number {
  return isHssKey(publicKey) ? ALG_HSS_LMS : ALG_ED25519;
}

/** Printable algorithm name of a key: "Ed25519" or "HSS-LMS". */
export function algorithmName(publicKey: Uint8Array): string {
  return isHssKey(publicKey) ? "HSS-LMS" : "Ed25519";
}

/** Throws (plain Error) unless `signature` has a length `publicKey`'s algorithm can produce within the format's bounds. */
export function checkSignatureLength(publicKey: Uint8Array, signature: Uint8Array): void {
  if (isHssKey(publicKey)) {
    if (signature.length < 4 || signature.length > Limits.MAX_HSS_SIGNATURE) {
      throw new Error(`an HSS/LMS signature in fwseal is at most ${Limits.MAX_HSS_SIGNATURE} bytes (got ${signature.length})`);
    }
  } else if (signature.length !== Limits.SIGNATURE_LEN) {
    throw new Error("an Ed25519 signature is 64 bytes");
  }
}

/** Key ID as 16 lowercase hex digits. */
export function keyIdHex(publicKey: Uint8Array, sha256: Sha256Fn = defaultSha256): string {
  return toHex(keyId(publicKey, sha256));
}

/** Lowercase hex of `b`. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

/** Bytes of an even-length hex string; throws on anything else. */
export function fromHex(h: string): Uint8Array {
  const s = h.trim();
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error("invalid hex string");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}
