// A device's root slots from a list of public keys (Ed25519 32 bytes, HSS/LMS 60 bytes), in
// the layout of formats/device-safe/root-keys.ts: the packed roots buffer and the mask of
// HSS/LMS slots. Host side (simulator, host verifier, provisioning, golden vectors).
import { Limits } from "../device-safe/limits.js";
import { rootKeysLength } from "../device-safe/root-keys.js";
import { toHex } from "./keyid.js";

/** Root slots as a device configuration holds them. */
export interface PackedRoots {
  /** Keys packed in slot order. */
  roots: Uint8Array;
  rootCount: number;
  /** Bit s set = slot s holds an HSS/LMS key (0 when every slot is Ed25519). */
  rootHssMask: number;
}

/** Packs `keys` (slot order) into a roots buffer; throws (plain Error) on a key of another length or too many keys. */
export function packRoots(keys: readonly Uint8Array[]): PackedRoots {
  if (keys.length > Limits.MAX_ROOT_SLOTS) throw new Error(`at most ${Limits.MAX_ROOT_SLOTS} root keys`);
  let mask = 0;
  keys.forEach((k, s) => {
    if (k.length === Limits.HSS_PUBLIC_KEY_LEN) mask |= 1 << s;
    else if (k.length !== Limits.PUBLIC_KEY_LEN) throw new Error(`root key ${s}: ${k.length} bytes (a key is 32 bytes Ed25519 or 60 bytes HSS/LMS)`);
  });
  const roots = new Uint8Array(rootKeysLength(mask, keys.length));
  let o = 0;
  for (const k of keys) {
    roots.set(k, o);
    o += k.length;
  }
  return { roots, rootCount: keys.length, rootHssMask: mask };
}

/**
 * Root keys as a device's command line or configuration file takes them (parseRootList in
 * root-keys.ts): hex entries joined by "+". Ed25519-only lists stay one concatenated hex
 * string, as before HSS/LMS.
 */
export function rootListText(keys: readonly Uint8Array[]): string {
  if (keys.every((k) => k.length === Limits.PUBLIC_KEY_LEN)) return keys.map(toHex).join("");
  return keys.map(toHex).join("+");
}
