// The one enumeration of rejection reasons. Every verifier (host CLI, device core on
// Node, Duktape, Espruino and the MCU firmware) reports these codes and nothing else.
// Codes are stable wire values (they travel in serial-protocol error frames): never
// renumber, only append. Constrained TS: plain object of numbers, no enum.

/** Rejection reason codes, the same on host and device (stable wire values: never renumbered, only appended). */
export const Reason = {
  OK: 0,
  MALFORMED: 1, // not valid CBOR / COSE / fwseal structure
  UNSUPPORTED_VERSION: 2, // manifest or certificate format version unknown
  UNSUPPORTED_ALGORITHM: 3, // alg other than EdDSA (-8) / Ed25519 (-19) / HSS-LMS (-46), or HSS-LMS on a device without it
  UNSUPPORTED_CRITICAL: 4, // a crit-listed header or manifest field this verifier does not understand
  NON_CANONICAL: 5, // valid CBOR but not deterministic encoding (RFC 8949 §4.2.1)
  TOO_LARGE: 6, // a hard bound (envelope, chunk size, count, depth...) exceeded
  BAD_SIGNATURE: 7, // Ed25519 verification failed (incl. S >= L, non-canonical or small-order points)
  UNKNOWN_KEY: 8, // signer is neither a root key nor carries a certificate
  REVOKED_KEY: 9, // certificate epoch below the device's minimum key epoch
  EXPIRED_KEY: 10, // certificate outside its validity window (device has trusted time)
  KEY_NOT_AUTHORIZED: 11, // certificate does not allow this vendor / device class
  WRONG_VENDOR: 12,
  WRONG_CLASS: 13,
  ROLLBACK: 14, // sequence number below the device's minimum
  THRESHOLD_NOT_MET: 15, // fewer distinct authorised signers than the policy demands
  CHUNK_HASH_MISMATCH: 16, // a chunk does not hash to the value the chain expects
  TRUNCATED: 17, // stream ended before the last chunk
  TRAILING_DATA: 18, // bytes after the last chunk
  BAD_CERTIFICATE: 19, // delegation certificate malformed or not signed by a root key
  UNSUPPORTED_ENCODING: 20, // payload encoding (compressed/encrypted/delta) not supported
  REVOKED_ROOT: 21, // signed by (or certificate issued by) a retired root slot
  STALE_STATEMENT: 22, // a root-retirement statement older than one already applied (replay)
  BAD_STATE: 23, // verifier used out of order (caller error, not attacker input)
  ALG_KEY_MISMATCH: 24, // a signature's alg is not the algorithm of the key it names (Ed25519 vs HSS/LMS)
  ALGORITHM_POLICY_NOT_MET: 25, // the counted signers lack an algorithm the device requires (hybrid policy)
  NOT_LOGGED: 26, // the device requires a transparency-log proof and the bundle carries none
  BAD_LOG_PROOF: 27, // log proof malformed, its entry not this release, its path not to the checkpoint, or the checkpoint not signed by a trusted log key
  WITNESS_QUORUM_NOT_MET: 28, // fewer valid cosignatures by trusted witnesses than the policy's quorum
  WRONG_PRECURSOR: 29, // a delta's precursor (chain head, size) is not the device's running image
  BAD_PAYLOAD: 30, // the decoded stream is invalid: bad deflate data, non-zero padding, patch add range outside the precursor, partial record
  RESULT_MISMATCH: 31 // the decoded image's size or chain head differs from the manifest's
};

/** Printable reason names, indexed by code (a plain array for the constrained engines). */
export const REASON_NAMES = [
  "OK",
  "MALFORMED",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_ALGORITHM",
  "UNSUPPORTED_CRITICAL",
  "NON_CANONICAL",
  "TOO_LARGE",
  "BAD_SIGNATURE",
  "UNKNOWN_KEY",
  "REVOKED_KEY",
  "EXPIRED_KEY",
  "KEY_NOT_AUTHORIZED",
  "WRONG_VENDOR",
  "WRONG_CLASS",
  "ROLLBACK",
  "THRESHOLD_NOT_MET",
  "CHUNK_HASH_MISMATCH",
  "TRUNCATED",
  "TRAILING_DATA",
  "BAD_CERTIFICATE",
  "UNSUPPORTED_ENCODING",
  "REVOKED_ROOT",
  "STALE_STATEMENT",
  "BAD_STATE",
  "ALG_KEY_MISMATCH",
  "ALGORITHM_POLICY_NOT_MET",
  "NOT_LOGGED",
  "BAD_LOG_PROOF",
  "WITNESS_QUORUM_NOT_MET",
  "WRONG_PRECURSOR",
  "BAD_PAYLOAD",
  "RESULT_MISMATCH"
];

/** The name of a Reason code, or "UNKNOWN_REASON" for a code outside the table. */
export function reasonName(code: number): string {
  if (code >= 0 && code < REASON_NAMES.length) return REASON_NAMES[code];
  return "UNKNOWN_REASON";
}
