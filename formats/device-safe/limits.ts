// Hard bounds of the format. A verifier allocates its buffers from these numbers once,
// at creation; an input that exceeds any of them is rejected with Reason.TOO_LARGE
// before anything is allocated or hashed. Constrained TS.

/** The format's hard bounds; an input beyond any of them is rejected with Reason.TOO_LARGE. */
export const Limits = {
  FORMAT_VERSION: 1,
  MAX_ENVELOPE: 16384, // bytes of the COSE envelope (headers, certificates, manifest, signatures)
  // Bytes one signature covers besides the Sig_structure's fixed parts: a signer's (or a
  // certificate's) protected header plus the payload it signs. Bounds the Sig_structure
  // scratch (and the HSS/LMS message buffer) independently of the envelope, which grows with
  // HSS/LMS signatures while the signed content does not (SPEC §9).
  MAX_SIGNED: 8192,
  // Largest HSS/LMS signature an envelope, certificate or root statement may carry (SPEC §9):
  // every one-level W2/W4/W8 set (H5-H25) and every two-level W4/W8 set fits; W1 and
  // two-level W2 signatures do not (TOO_LARGE).
  MAX_HSS_SIGNATURE: 8192,
  MIN_CHUNK_SIZE: 256,
  MAX_CHUNK_SIZE: 65536, // power of two between MIN and MAX
  MAX_CHUNK_COUNT: 16777216, // 2^24
  MAX_SIGNERS: 8, // COSE_Sign signatures
  MAX_DEPTH: 8, // CBOR nesting depth
  MAX_MAP_ENTRIES: 32,
  MAX_ARRAY_ITEMS: 16,
  MAX_VERSION_LEN: 64, // human version string, bytes
  MAX_NOTES_LEN: 2048, // release notes, bytes
  MAX_TEXT_LEN: 256, // other text fields (provenance)
  MAX_MANIFEST_CRIT: 8, // entries of the manifest's crit array
  MAX_CERT_CLASSES: 8,
  MAX_ROOT_SLOTS: 4,
  // How far one release may raise the device's minimum key epoch (manifest key-epoch-floor
  // at most minimum + this, SPEC §8.3): no single signature can use up the epoch space.
  MAX_EPOCH_STEP: 1024,
  KEY_ID_LEN: 8,
  UUID_LEN: 16,
  HASH_LEN: 32,
  PUBLIC_KEY_LEN: 32, // Ed25519 public key
  HSS_PUBLIC_KEY_LEN: 60, // HSS/LMS public key (RFC 8554 §3.3: L, LMS type, OTS type, I, T[1])
  SIGNATURE_LEN: 64, // Ed25519 signature
  // Chunk hash input = CHUNK_DOMAIN (16) || be32(index) || data || next-hash (32)
  CHUNK_PREFIX_LEN: 20,
  // Compressed and delta payloads (SPEC §15): the deflate window a manifest may name, in bits
  // (512 bytes .. 32 KiB), and the payload decoder's resume state at a wire-chunk boundary.
  MIN_WINDOW_BITS: 9,
  MAX_WINDOW_BITS: 15,
  DECODER_STATE_LEN: 32
};

/** "fwseal/chunk/v1\0": the domain-separation prefix of every chunk hash, as bytes. */
export const CHUNK_DOMAIN = [0x66, 0x77, 0x73, 0x65, 0x61, 0x6c, 0x2f, 0x63, 0x68, 0x75, 0x6e, 0x6b, 0x2f, 0x76, 0x31, 0x00];

/** COSE algorithm identifier EdDSA, accepted for Ed25519. */
export const ALG_EDDSA = -8;
/** COSE algorithm identifier Ed25519, the one fwseal writes. */
export const ALG_ED25519 = -19;
/** COSE algorithm identifier HSS-LMS (RFC 8778): HSS/LMS signatures of RFC 8554. */
export const ALG_HSS_LMS = -46;

/**
 * Signature algorithms as bits of a mask (a device's required algorithms, SPEC §8.1; the
 * algorithms checked at boot, §8.5). A key's type is one of these bits too.
 */
export const AlgorithmBit = { ED25519: 1, HSS_LMS: 2 };

// Root-retirement statements (formats/SPEC.md §11): size bound, and the external AAD of
// their Sig_structure, "fwseal/root-retire/v1" as bytes. The AAD separates them from
// delegation certificates (empty AAD), which the same root keys sign.
/** Largest root-retirement statement, bytes (SPEC §11). */
export const MAX_ROOT_STATEMENT = 8192;
/**
 * Bytes one statement signature covers besides the Sig_structure's fixed parts (its
 * protected header, the AAD and the payload): a statement over it is TOO_LARGE. Bounds the
 * verifier's Sig_structure scratch while the statement grows with HSS/LMS signatures.
 */
export const MAX_ROOT_SIGNED = 512;
/**
 * How far one root-retirement statement may advance the device's statement counter: a
 * counter above stored + this is TOO_LARGE (SPEC §11.3). 2^32 lets the tool's default
 * counter (Unix time in seconds) be applied to a fresh device (counter 0) until 2106.
 */
export const MAX_ROOT_COUNTER_STEP = 4294967296;
/** Longest note a root-retirement statement may carry, bytes. */
export const MAX_ROOT_NOTE_LEN = 256;
/** External AAD of a root-retirement statement's Sig_structure: "fwseal/root-retire/v1" as bytes. */
export const ROOT_RETIRE_AAD = [0x66, 0x77, 0x73, 0x65, 0x61, 0x6c, 0x2f, 0x72, 0x6f, 0x6f, 0x74, 0x2d, 0x72, 0x65, 0x74, 0x69, 0x72, 0x65, 0x2f, 0x76, 0x31];

// Transparency-log proofs (formats/SPEC.md §14).
/** Most hashes in an inclusion path: a tree of up to 2^63 leaves. */
export const MAX_LOG_PROOF_HASHES = 63;
/** Longest checkpoint note (text and signature lines) a device reads, bytes. */
export const MAX_LOG_NOTE = 1024;
/** Longest checkpoint text (origin, size, root hash, extension lines), bytes. */
export const MAX_LOG_CHECKPOINT_TEXT = 256;
/** Most log or witness keys a device policy names. */
export const MAX_LOG_KEYS = 8;
/** Longest log entry a device hashes, bytes. */
export const MAX_LOG_ENTRY = 512;
/** Bytes per trusted note key in a device policy: note key ID (4, big-endian) || Ed25519 public key (32). */
export const LOG_KEY_RECORD = 36;
