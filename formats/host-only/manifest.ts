// The manifest (formats/SPEC.md §4): type, host-side validation and deterministic encoding.
import { Cbor, CborMap, encodeCanonical } from "./cbor-encode.js";
import { ManifestKey, PayloadEncoding, ProvenanceKey } from "../device-safe/labels.js";
import { Limits } from "../device-safe/limits.js";
import { Reason } from "../device-safe/reasons.js";
import { checkChunkSize, chunkCountFor } from "../device-safe/chunk-layout.js";

export interface Provenance {
  sourceRevision?: string;
  builder?: string;
  /** Seconds since 1970-01-01 UTC. */
  buildTime?: number;
}

export interface Manifest {
  /** Default 1 (Limits.FORMAT_VERSION). Other values only for tests. */
  formatVersion?: number;
  vendorId: Uint8Array; // 16
  classId: Uint8Array; // 16
  sequence: number;
  version: string;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  chainHead: Uint8Array; // 32
  /** Default PayloadEncoding.RAW (0). */
  payloadEncoding?: number;
  encodingParams?: CborMap;
  provenance?: Provenance;
  sbomDigest?: Uint8Array;
  releaseNotes?: string;
  keyEpochFloor?: number;
  /** Manifest keys (other than 1..16) the device must understand. */
  crit?: number[];
  /** Further (unknown) manifest keys, for forward compatibility and tests. */
  extra?: Map<number, Cbor>;
}

function utf8Len(s: string): number {
  return new TextEncoder().encode(s).length;
}

function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Throws with a precise message if `m` would not pass a version-1 verifier's §4 checks. */
export function checkManifest(m: Manifest): void {
  if (m.vendorId.length !== Limits.UUID_LEN) throw new Error("vendor-id must be 16 bytes");
  if (m.classId.length !== Limits.UUID_LEN) throw new Error("class-id must be 16 bytes");
  if (!isUint(m.sequence)) throw new Error("sequence must be an integer 0..2^53-1");
  const vl = utf8Len(m.version);
  if (vl < 1 || vl > Limits.MAX_VERSION_LEN) throw new Error(`version must be 1..${Limits.MAX_VERSION_LEN} bytes`);
  if (!isUint(m.imageSize) || m.imageSize < 1) throw new Error("image-size must be >= 1");
  const cs = m.chunkSize;
  if (!isUint(cs) || checkChunkSize(cs, Limits.MAX_CHUNK_SIZE) !== Reason.OK)
    throw new Error(`chunk-size must be a power of two in ${Limits.MIN_CHUNK_SIZE}..${Limits.MAX_CHUNK_SIZE}`);
  if (m.chunkCount !== chunkCountFor(m.imageSize, cs)) throw new Error("chunk-count != ceil(image-size / chunk-size)");
  if (m.chunkCount > Limits.MAX_CHUNK_COUNT) throw new Error("image too large: more than 2^24 chunks");
  if (m.chainHead.length !== Limits.HASH_LEN) throw new Error("chain-head must be 32 bytes");
  if (m.sbomDigest && m.sbomDigest.length !== Limits.HASH_LEN) throw new Error("sbom-digest must be 32 bytes");
  if (m.releaseNotes !== undefined && utf8Len(m.releaseNotes) > Limits.MAX_NOTES_LEN)
    throw new Error(`release notes longer than ${Limits.MAX_NOTES_LEN} bytes`);
  if (m.keyEpochFloor !== undefined && !isUint(m.keyEpochFloor)) throw new Error("key-epoch-floor must be a uint");
  const p = m.provenance;
  if (p) {
    for (const t of [p.sourceRevision, p.builder])
      if (t !== undefined && utf8Len(t) > Limits.MAX_TEXT_LEN) throw new Error(`provenance text longer than ${Limits.MAX_TEXT_LEN} bytes`);
    if (p.buildTime !== undefined && !isUint(p.buildTime)) throw new Error("build-time must be a uint");
  }
  if (m.crit && (m.crit.length < 1 || m.crit.length > 8)) throw new Error("crit must list 1..8 keys");
}

/** The manifest as a CBOR map (no validation). */
export function manifestToCbor(m: Manifest): CborMap {
  const map: CborMap = new Map<number, Cbor>();
  map.set(ManifestKey.FORMAT_VERSION, m.formatVersion ?? Limits.FORMAT_VERSION);
  map.set(ManifestKey.VENDOR_ID, m.vendorId);
  map.set(ManifestKey.CLASS_ID, m.classId);
  map.set(ManifestKey.SEQUENCE, m.sequence);
  map.set(ManifestKey.VERSION, m.version);
  map.set(ManifestKey.IMAGE_SIZE, m.imageSize);
  map.set(ManifestKey.CHUNK_SIZE, m.chunkSize);
  map.set(ManifestKey.CHUNK_COUNT, m.chunkCount);
  map.set(ManifestKey.CHAIN_HEAD, m.chainHead);
  map.set(ManifestKey.PAYLOAD_ENCODING, m.payloadEncoding ?? PayloadEncoding.RAW);
  if (m.encodingParams) map.set(ManifestKey.ENCODING_PARAMS, m.encodingParams);
  if (m.provenance) {
    const p = new Map<number, Cbor>();
    if (m.provenance.sourceRevision !== undefined) p.set(ProvenanceKey.SOURCE_REVISION, m.provenance.sourceRevision);
    if (m.provenance.builder !== undefined) p.set(ProvenanceKey.BUILDER, m.provenance.builder);
    if (m.provenance.buildTime !== undefined) p.set(ProvenanceKey.BUILD_TIME, m.provenance.buildTime);
    map.set(ManifestKey.PROVENANCE, p);
  }
  if (m.sbomDigest) map.set(ManifestKey.SBOM_DIGEST, m.sbomDigest);
  if (m.releaseNotes !== undefined) map.set(ManifestKey.RELEASE_NOTES, m.releaseNotes);
  if (m.keyEpochFloor !== undefined) map.set(ManifestKey.KEY_EPOCH_FLOOR, m.keyEpochFloor);
  if (m.crit) map.set(ManifestKey.CRIT, m.crit);
  if (m.extra) for (const [k, v] of m.extra) map.set(k, v);
  return map;
}

/** Deterministic manifest bytes (the COSE payload). Set `check` false to build invalid test input. */
export function encodeManifest(m: Manifest, check = true): Uint8Array {
  if (check) checkManifest(m);
  return encodeCanonical(manifestToCbor(m));
}
