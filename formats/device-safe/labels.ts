// CBOR map keys and COSE labels used by fwseal. Defined once; see formats/SPEC.md §3-§5.
// Constrained TS.

/** CBOR tags of COSE_Sign1 and COSE_Sign. */
export const CoseTag = { SIGN1: 18, SIGN: 98 };

/** COSE header labels fwseal uses, including its private-use certificate label. */
export const HeaderLabel = {
  ALG: 1,
  CRIT: 2,
  CONTENT_TYPE: 3,
  KID: 4,
  // Private-use label (RFC 9052 §16.x: < -65536): the signer's delegation certificate.
  FWSEAL_CERT: -65537,
  // Private-use label: the log proof of a logged bundle (SPEC §14), in the envelope's
  // unprotected header (COSE_Sign1) or the body's unprotected header (COSE_Sign).
  FWSEAL_LOG_PROOF: -65538
};

/** Manifest map keys (formats/SPEC.md §4). */
export const ManifestKey = {
  FORMAT_VERSION: 1,
  VENDOR_ID: 2,
  CLASS_ID: 3,
  SEQUENCE: 4,
  VERSION: 5,
  IMAGE_SIZE: 6,
  CHUNK_SIZE: 7,
  CHUNK_COUNT: 8,
  CHAIN_HEAD: 9,
  PAYLOAD_ENCODING: 10,
  ENCODING_PARAMS: 11,
  PROVENANCE: 12,
  SBOM_DIGEST: 13,
  RELEASE_NOTES: 14,
  KEY_EPOCH_FLOOR: 15,
  CRIT: 16,
  /** Informative, not in the set every verifier understands (SPEC §4): where the image starts in the device's memory. */
  LOAD_ADDRESS: 17
};

/** Provenance sub-map keys. */
export const ProvenanceKey = { SOURCE_REVISION: 1, BUILDER: 2, BUILD_TIME: 3 };

/** Payload encodings a manifest can name (SPEC §4, §15: raw, compressed and delta are defined; encrypted is not). */
export const PayloadEncoding = { RAW: 0, COMPRESSED: 1, ENCRYPTED: 2, DELTA: 3 };
/** Codecs of an encoded payload's wire chunks (encoding-params key 4, SPEC §15). */
export const PayloadCodec = { NONE: 0, DEFLATE: 1 };
/** Keys of the manifest's encoding-params map (key 11) for compressed and delta payloads (SPEC §15). */
export const EncodingParamKey = { WIRE_SIZE: 1, WIRE_CHUNK_COUNT: 2, WIRE_CHAIN_HEAD: 3, CODEC: 4, WINDOW_BITS: 5, PRECURSOR_CHAIN_HEAD: 6, PRECURSOR_SIZE: 7 };

/** Delegation certificate payload keys (formats/SPEC.md §5). */
export const CertKey = {
  FORMAT_VERSION: 1,
  PUBLIC_KEY: 2,
  NOT_BEFORE: 3,
  NOT_AFTER: 4,
  EPOCH: 5,
  VENDOR_ID: 6,
  CLASS_IDS: 7
};

/** Root-retirement statement payload keys (formats/SPEC.md §11). */
export const RootStatementKey = {
  FORMAT_VERSION: 1,
  SLOT: 2, // root slot to retire
  COUNTER: 3, // monotonic anti-replay counter
  VENDOR_ID: 4,
  CLASS_ID: 5, // optional: absent = every class of the vendor
  RETIRED_KEY_ID: 6, // key ID of the root key in that slot
  NOTE: 7 // optional human text, never interpreted
};

/** Log entry map keys (formats/SPEC.md §14.1): what the transparency log records of a release. */
export const LogEntryKey = {
  MANIFEST_DIGEST: 1, // SHA-256 of the signed manifest bytes (the COSE payload)
  SIGNER_KEY_IDS: 2, // array of the envelope's signer key IDs, in envelope order
  ENVELOPE_DIGEST: 3, // SHA-256 of the envelope as submitted (without a log proof)
  VENDOR_ID: 4,
  CLASS_ID: 5,
  SEQUENCE: 6,
  VERSION: 7,
  LOGGED_AT: 8 // seconds since 1970, when the log appended it
};

/** Positions in the log proof array (formats/SPEC.md §14.2). */
export const LogProofItem = { ENTRY: 0, LEAF_INDEX: 1, PATH: 2, CHECKPOINT: 3, COUNT: 4 };
