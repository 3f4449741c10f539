// Ed25519 verification for host-side bundle verification with the curve arithmetic done by
// node:crypto (OpenSSL), under exactly the rules of formats/SPEC.md §6.1, so every verdict is
// the device core's (device-sim/core/crypto/ed25519.ts; test/unit/core-crypto.test.ts runs
// the same cases on both). The core's own Ed25519, run once in a fresh process, is most of
// the CPU time of `fwseal verify` on a small bundle (interpreted JavaScript before the JIT
// warms up); OpenSSL's is native.
//
// Why the decisions are the same: OpenSSL checks S < L, decodes A (rejecting y without a
// square root), computes R' = [S]B - [k]A with k = SHA-512(R || A_bytes || M) mod L and
// accepts iff encode(R') equals R_bytes byte for byte: §6.1 rules 1, 4 and 5, and the square
// root part of rule 2. It does not reject a non-canonical y, x = 0 with the sign bit set, or
// a small-order A; those checks (rules 2 and 3) are made here first, on the encoding: with y
// canonical and x = 0 excluded when the sign bit is set, each of the 8 points of order
// dividing 8 has exactly one encoding, listed below.
import { createPublicKey, verify } from "node:crypto";
import type { Primitives } from "../../device-sim/core/crypto/primitives.js";
import { copyBytesNode, sha256Node } from "./node-primitives.js";

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_LE = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");

/** The canonical encodings of the 8 points of order dividing 8 (checked in test/unit/core-crypto.test.ts). */
export const SMALL_ORDER_ENCODINGS: readonly string[] = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"
];
const SMALL_ORDER = new Set(SMALL_ORDER_ENCODINGS);

/** SPKI DER header of an Ed25519 public key (RFC 8410), followed by the 32 key bytes. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Rule 1: the little-endian scalar b[off .. off+32) is below L. */
function scalarBelowL(b: Uint8Array, off: number): boolean {
  for (let i = 31; i >= 0; i--) {
    if (b[off + i] !== L_LE[i]) return b[off + i] < L_LE[i];
  }
  return false; // equal to L
}

/** The low 255 bits of b are `low` (byte 0) then `mid` (bytes 1..30) then `high` (byte 31, 7 bits). */
function yIs(b: Uint8Array, low: number, mid: number, high: number): boolean {
  if (b[0] !== low || (b[31] & 0x7f) !== high) return false;
  for (let i = 1; i < 31; i++) if (b[i] !== mid) return false;
  return true;
}

/** Rule 2's encoding checks: y < p = 2^255 - 19, and not x = 0 (y = ±1) with the sign bit. */
function canonicalPoint(pk: Uint8Array): boolean {
  const yAtLeastP = (pk[31] & 0x7f) === 0x7f && pk[0] >= 0xed && yIs(pk, pk[0], 0xff, 0x7f);
  if (yAtLeastP) return false;
  const sign = pk[31] & 0x80;
  if (sign !== 0 && (yIs(pk, 0x01, 0x00, 0x00) || yIs(pk, 0xec, 0xff, 0x7f))) return false;
  return true;
}

/** Ed25519 verify per SPEC §6.1 (the core's signature: pk 32 bytes, sig 64, message msg[msgOff .. +msgLen)). */
export function ed25519VerifyHost(pk: Uint8Array, sig: Uint8Array, msg: Uint8Array, msgOff: number, msgLen: number): boolean {
  if (pk.length !== 32 || sig.length !== 64) return false;
  if (msgOff < 0 || msgLen < 0 || msgOff + msgLen > msg.length) return false;
  if (!scalarBelowL(sig, 32)) return false;
  if (!canonicalPoint(pk) || SMALL_ORDER.has(Buffer.from(pk).toString("hex"))) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: "der", type: "spki" });
    return verify(null, msg.subarray(msgOff, msgOff + msgLen), key, sig);
  } catch {
    return false; // a key OpenSSL refuses to load verifies nothing
  }
}

/** Primitives for host verification: node:crypto SHA-256 and the Ed25519 above. */
export function createHostPrimitives(): Primitives {
  return { sha256: sha256Node, ed25519Verify: ed25519VerifyHost, copyBytes: copyBytesNode };
}
