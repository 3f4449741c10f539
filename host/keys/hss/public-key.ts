// HSS/LMS public keys outside the key file: the RFC 8554 byte string (u32str(L) || LMS
// public key, 60 bytes for the SHA-256/M32 sets), SPKI PEM with the RFC 8708 algorithm
// id-alg-hss-lms-hashsig (1.2.840.113549.1.9.16.3.17, parameters absent) whose BIT STRING
// holds the raw key as RFC 9708 clarified (the older OCTET STRING wrapping is also read),
// and COSE_Key per RFC 8778 / the IANA COSE registries: kty HSS-LMS (5), pub (-1).
import { FwsealError } from "../../errors.js";
import { keyIdHex } from "../keys.js";
import { HSS_PUB_LEN, MAX_LEVELS, lmotsByType, lmsByType } from "./params.js";

/** COSE algorithm HSS-LMS (RFC 8778). */
export const COSE_ALG_HSS_LMS = -46;
/** COSE key type HSS-LMS (RFC 8778). */
export const COSE_KTY_HSS_LMS = 5;

// DER: SEQUENCE { SEQUENCE { OID 1.2.840.113549.1.9.16.3.17 }, BIT STRING (0 unused bits) <key> }
const OID_DER = Buffer.from("060b2a864886f70d0109100311", "hex");
const SPKI_PREFIX = Buffer.concat([Buffer.from([0x30, 0x4e, 0x30, 0x0d]), OID_DER, Buffer.from([0x03, 0x3d, 0x00])]);
const SPKI_PREFIX_WRAPPED = Buffer.concat([Buffer.from([0x30, 0x50, 0x30, 0x0d]), OID_DER, Buffer.from([0x03, 0x3f, 0x00, 0x04, 0x3c])]);

/** True when `pk` is an HSS public key of a parameter set fwseal supports. */
export function isHssPublicKey(pk: Uint8Array): boolean {
  if (pk.length !== HSS_PUB_LEN) return false;
  const b = Buffer.from(pk.buffer, pk.byteOffset, pk.length);
  const L = b.readUInt32BE(0);
  return L >= 1 && L <= MAX_LEVELS && lmsByType(b.readUInt32BE(4)) !== undefined && lmotsByType(b.readUInt32BE(8)) !== undefined;
}

/** Readable parameters of a public key: "HSS L=1, LMS_SHA256_M32_H10, LMOTS_SHA256_N32_W4". */
export function describeHssPublicKey(pk: Uint8Array): string {
  const b = Buffer.from(pk.buffer, pk.byteOffset, pk.length);
  return `HSS L=${b.readUInt32BE(0)}, top ${lmsByType(b.readUInt32BE(4))?.name ?? "?"}, ${lmotsByType(b.readUInt32BE(8))?.name ?? "?"}`;
}

/** DER SubjectPublicKeyInfo of an HSS public key. */
export function hssSpkiDer(pk: Uint8Array): Buffer {
  return Buffer.concat([SPKI_PREFIX, pk]);
}

/** SPKI PEM ("PUBLIC KEY") of an HSS public key. */
export function hssPublicKeyToPem(pk: Uint8Array): string {
  const b64 = hssSpkiDer(pk).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

/** The HSS public key in a DER SPKI, or null when the SPKI names another algorithm. */
export function hssPublicKeyFromSpki(der: Uint8Array, what: string): Uint8Array | null {
  const d = Buffer.from(der);
  if (d.indexOf(OID_DER) < 0) return null;
  let pk: Buffer | null = null;
  if (d.length === SPKI_PREFIX.length + HSS_PUB_LEN && d.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) pk = d.subarray(SPKI_PREFIX.length);
  if (d.length === SPKI_PREFIX_WRAPPED.length + HSS_PUB_LEN && d.subarray(0, SPKI_PREFIX_WRAPPED.length).equals(SPKI_PREFIX_WRAPPED)) pk = d.subarray(SPKI_PREFIX_WRAPPED.length);
  if (pk === null || !isHssPublicKey(pk)) throw new FwsealError("KEY_CORRUPT", `${what}: HSS/LMS public key with an unsupported encoding or parameter set`);
  return new Uint8Array(pk);
}

/**
 * COSE_Key of an HSS public key, deterministic CBOR:
 * { 1 (kty): 5 (HSS-LMS), 2 (kid): key ID (SPEC §6, over the 60 public key bytes), 3 (alg): -46 (HSS-LMS), -1 (pub): public key bytes }.
 */
export function hssCoseKey(pk: Uint8Array): Uint8Array {
  if (pk.length !== HSS_PUB_LEN) throw new FwsealError("INTERNAL", "HSS public key length");
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0xa4, 0x01, COSE_KTY_HSS_LMS, 0x02, 0x48]),
      Buffer.from(keyIdHex(pk), "hex"),
      Buffer.from([0x03, 0x38, -1 - COSE_ALG_HSS_LMS, 0x20, 0x58, HSS_PUB_LEN]),
      Buffer.from(pk)
    ])
  );
}
