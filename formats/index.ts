/**
 * fwseal formats ("fwseal/formats"): the bundle format's host-side codecs and the constants
 * host and device share. Normative text: formats/SPEC.md. All byte values are Uint8Array;
 * every builder is deterministic. Signing runs in one call (buildBundle, packBundle,
 * signEnvelope, buildCertificate) or in two phases for offline keys and HSMs:
 *
 *   const p = await prepareBundle(src, opts);
 *   const u = prepareEnvelope(p, [{ publicKey, certificate? }], envelopeOptions);
 *   // u.signers[i].toBeSigned: the exact Sig_structure bytes key i signs
 *   await writeBundle(src, p, attachSignatures(u, [sig0, ...]), write);
 *
 * The device-side verifiers are in "fwseal/device-core" (constrained TypeScript).
 */

// Shared constants.
export {
  /** Rejection reason codes, the same on host and device (stable wire values). */
  Reason,
  /** Reason names indexed by code. */
  REASON_NAMES,
  /** The name of a Reason code ("ROLLBACK"), or "UNKNOWN_REASON". */
  reasonName
} from "./device-safe/reasons.js";
export {
  /** The format's hard bounds (envelope size, chunk sizes, signers, depth, ...). */
  Limits,
  /** The domain-separation prefix of every chunk hash (SPEC §6). */
  CHUNK_DOMAIN,
  /** COSE algorithm identifiers fwseal accepts: EdDSA (-8) and Ed25519 (-19). */
  ALG_EDDSA,
  ALG_ED25519
} from "./device-safe/limits.js";
export {
  /** CBOR tags of COSE_Sign1 and COSE_Sign. */
  CoseTag,
  /** Integer labels of COSE header, manifest, provenance and certificate maps, and payload encodings (SPEC). */
  HeaderLabel,
  ManifestKey,
  ProvenanceKey,
  PayloadEncoding,
  CertKey
} from "./device-safe/labels.js";

// CBOR.
export {
  /** Deterministic CBOR (RFC 8949 §4.2.1) of a Cbor value; throws on values CBOR cannot hold. */
  encodeCanonical,
  /** A tagged CBOR value, for encodeCanonical. */
  CborTag,
  /** One pre-encoded CBOR item, embedded as is by encodeCanonical. */
  CborRaw,
  /** The values encodeCanonical takes and decodeCanonical returns. */
  type Cbor,
  /** A CBOR map as encodeCanonical takes it. */
  type CborMap
} from "./host-only/cbor-encode.js";
export {
  /** Strict decoder (the device's reader): accepts canonical CBOR only; throws CborDecodeError. */
  decodeCanonical,
  /** What decodeCanonical throws; `reason` is the Reason code. */
  CborDecodeError,
  /** Options of decodeCanonical (which tags to allow). */
  type DecodeOptions
} from "./host-only/cbor-decode.js";
export {
  /** Length of the complete CBOR item at the start of a buffer: > 0 length, 0 need more bytes, < 0 minus a Reason. */
  cborItemLength
} from "./device-safe/cbor-reader.js";

// Identifiers.
export {
  /** The 16-byte vendor ID for a name (UUIDv5, SPEC §4) or a literal UUID string; throws on an empty name. */
  vendorUuid,
  /** The 16-byte device-class ID under a vendor, the same way. */
  classUuid,
  /** 16 bytes as a UUID string. */
  formatUuid,
  /** A UUID string as 16 bytes; throws on anything else. */
  parseUuid
} from "./host-only/uuid.js";
export {
  /** The 8-byte key ID of a 32-byte Ed25519 public key (SPEC: truncated SHA-256); throws on another length. */
  keyId,
  /** keyId as 16 hex digits. */
  keyIdHex,
  /** Bytes to lower-case hex, and back (throws on bad hex). */
  toHex,
  fromHex,
  /** A one-shot SHA-256 function, for callers that bring their own. */
  type Sha256Fn
} from "./host-only/keyid.js";

// Manifest, envelope, certificates.
export {
  /** The canonical CBOR of a manifest; checks it first (throws on a field out of range). */
  encodeManifest,
  /** Throws if a manifest breaks a SPEC rule. */
  checkManifest,
  /** A bundle manifest, and its provenance field. */
  type Manifest,
  type Provenance
} from "./host-only/manifest.js";
export {
  /** The unsigned envelope and each signer's to-be-signed bytes (phase one of offline signing). */
  buildUnsignedEnvelope,
  /** The signed envelope from an unsigned one and the signatures (phase two); throws on a wrong count or length. */
  attachSignatures,
  /** Both phases with signers at hand: COSE_Sign1 for one signer, COSE_Sign for several. */
  signEnvelope,
  /** A signer: public key, optional delegation certificate, sign(message). */
  type EnvelopeSigner,
  /** A signer's public part, for the two-phase flow. */
  type SignerInfo,
  /** Envelope choices: forceSign, alg, crit, sha256. */
  type EnvelopeOptions,
  /** What buildUnsignedEnvelope returns. */
  type UnsignedEnvelope
} from "./host-only/cose.js";
export {
  /** A delegation certificate signed by a root signer; throws on an invalid body. */
  buildCertificate,
  /** The unsigned certificate and its to-be-signed bytes, for an offline root. */
  buildUnsignedCertificate,
  /** The certificate from an unsigned one and the root's signature. */
  attachCertificateSignature,
  /** The fields of a certificate (signature not checked); throws if it is not one. */
  parseCertificate,
  /** A certificate's body, its unsigned form, and what parseCertificate returns. */
  type CertBody,
  type UnsignedCertificate,
  type ParsedCertificate
} from "./host-only/certificate.js";

// Chunks and bundles.
export {
  /** Chunk size, count and last-chunk length for an image; throws on a size out of range. */
  chunkGeometry,
  /** H_i = SHA-256(domain || i || data || H_{i+1}) (SPEC §6). */
  chunkHash,
  /** All chunk hashes, back to front, one chunk in memory at a time. */
  computeChain,
  /** What chunkGeometry returns, and how computeChain reads the image. */
  type ChunkGeometry,
  type ImageReader
} from "./host-only/chunk-chain.js";
export {
  /** Writes the chunk-hash prefix (domain string || be32 index) that every chunk hash starts with. */
  writeChunkPrefix,
  /** The Reason a manifest's chunk size, count and image size earn (OK when they agree, SPEC §7). */
  checkChunkGeometry
} from "./device-safe/chunk-layout.js";
export {
  /** A whole bundle in memory. */
  buildBundle,
  /** A bundle streamed to a writer, reading the image twice, one chunk at a time. */
  packBundle,
  /** Offline flow: the manifest and chain (pass one), the unsigned envelope, then the bundle. */
  prepareBundle,
  prepareEnvelope,
  writeBundle,
  /** An ImageSource over bytes in memory. */
  imageSourceFromBytes,
  /** An image to pack: its size and a random-access reader. */
  type ImageSource,
  /** What a bundle says (vendor, class, sequence, version, ...) and how it is built (chunk size, envelope). */
  type BundleOptions,
  /** The result of prepareBundle: manifest, its bytes, geometry and chain. */
  type PreparedBundle,
  /** Where packBundle and writeBundle send bytes. */
  type ByteWriter,
  /** What packBundle returns. */
  type PackResult
} from "./host-only/bundle-builder.js";
