// Root slots that hold Ed25519 or HSS/LMS public keys (formats/SPEC.md §6, §11.1), and the
// mapping between COSE algorithms, key types and algorithm bits. Constrained TS; shared by
// the device core and every producer of a device configuration (simulator, MCU, Espruino,
// host), so all of them lay out the roots buffer the same way.
//
// A device configuration names its root keys with two values:
//   roots       the keys, packed in slot order: 32 bytes for an Ed25519 slot, 60 bytes (the
//               RFC 8554 public key string) for an HSS/LMS slot;
//   rootHssMask bit s set = slot s holds an HSS/LMS key. 0 or absent: every slot is Ed25519,
//               so a configuration written before HSS/LMS (rootCount * 32 bytes) is unchanged.
import { Limits, ALG_EDDSA, ALG_ED25519, ALG_HSS_LMS, AlgorithmBit } from "./limits.js";

/** Bytes of the public key in root slot s. */
export function rootKeyLength(hssMask: number, s: number): number {
  return ((hssMask >> s) & 1) === 1 ? Limits.HSS_PUBLIC_KEY_LEN : Limits.PUBLIC_KEY_LEN;
}

/** Offset of root slot s's public key in the packed roots buffer. */
export function rootKeyOffset(hssMask: number, s: number): number {
  let o = 0;
  for (let i = 0; i < s; i++) o += rootKeyLength(hssMask, i);
  return o;
}

/** Bytes of the packed roots buffer for `count` slots. */
export function rootKeysLength(hssMask: number, count: number): number {
  return rootKeyOffset(hssMask, count);
}

/** The algorithm bit of a public key of `len` bytes (AlgorithmBit), or 0 for another length. */
export function keyAlgorithmBit(len: number): number {
  if (len === Limits.PUBLIC_KEY_LEN) return AlgorithmBit.ED25519;
  if (len === Limits.HSS_PUBLIC_KEY_LEN) return AlgorithmBit.HSS_LMS;
  return 0;
}

/** The algorithm bit of a COSE alg fwseal accepts (-19 and -8: Ed25519, -46: HSS/LMS), or 0. */
export function coseAlgorithmBit(alg: number): number {
  if (alg === ALG_ED25519 || alg === ALG_EDDSA) return AlgorithmBit.ED25519;
  if (alg === ALG_HSS_LMS) return AlgorithmBit.HSS_LMS;
  return 0;
}

function isHexDigit(c: string): boolean {
  return (c >= "0" && c <= "9") || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}

/**
 * Parses root keys written as hex for a device's command line or configuration file:
 * entries separated by "+" (or ","; QEMU's option syntax reserves the comma), each 60 bytes (one HSS/LMS key) or a multiple of 32 bytes
 * (that many Ed25519 keys, the form used before HSS/LMS). Fills `out` (packed, slot order)
 * and returns rootCount * 256 + rootHssMask, or -1 for anything else (odd or non-hex
 * digits, another length, more than MAX_ROOT_SLOTS keys, `out` too small).
 */
export function parseRootList(text: string, out: Uint8Array): number {
  let count = 0;
  let mask = 0;
  let o = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charAt(i) !== "+" && text.charAt(i) !== ",") continue;
    const n = (i - start) / 2;
    if (n !== Math.floor(n) || n === 0) return -1;
    if (n !== Limits.HSS_PUBLIC_KEY_LEN && n % Limits.PUBLIC_KEY_LEN !== 0) return -1;
    if (o + n > out.length) return -1;
    for (let j = 0; j < n; j++) {
      const b = parseInt(text.substr(start + 2 * j, 2), 16);
      const c0 = text.charAt(start + 2 * j);
      const c1 = text.charAt(start + 2 * j + 1);
      if (b !== b || !isHexDigit(c0) || !isHexDigit(c1)) return -1;
      out[o + j] = b;
    }
    o += n;
    if (n === Limits.HSS_PUBLIC_KEY_LEN) {
      mask |= 1 << count;
      count++;
    } else {
      count += n / Limits.PUBLIC_KEY_LEN;
    }
    if (count > Limits.MAX_ROOT_SLOTS) return -1;
    start = i + 1;
  }
  return count * 256 + mask;
}
