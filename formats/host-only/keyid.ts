// Key IDs (formats/SPEC.md §6): the first 8 bytes of SHA-256(public key). Host side.
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { Limits } from "../device-safe/limits.js";

/** A one-shot SHA-256. The host may pass node:crypto's for speed; default @noble/hashes. */
export type Sha256Fn = (data: Uint8Array) => Uint8Array;

/** SHA-256 from @noble/hashes (runs anywhere). */
export const defaultSha256: Sha256Fn = (data) => nobleSha256(data);

/** Key ID of a 32-byte Ed25519 public key. */
export function keyId(publicKey: Uint8Array, sha256: Sha256Fn = defaultSha256): Uint8Array {
  if (publicKey.length !== 32) throw new Error("Ed25519 public key must be 32 bytes");
  return sha256(publicKey).slice(0, Limits.KEY_ID_LEN);
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
