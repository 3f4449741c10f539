// The manifest (formats/SPEC.md §4), host side: type, validation, deterministic encoding,
// and decoding back (strict for the host's own files, lenient for description). The
// verdict on a signed manifest is always the device core verifier's.
import { Cbor, CborMap, encodeCanonical } from "./cbor-encode.js";
import { decodeCanonical, type DecodeOptions } from "./cbor-decode.js";
import { ManifestKey, PayloadEncoding, ProvenanceKey } from "../device-safe/labels.js";
import { Limits } from "../device-safe/limits.js";
import { Reason } from "../device-safe/reasons.js";
import { checkChunkSize, chunkCountFor } from "../device-safe/chunk-layout.js";

/** Where an image came from (manifest key 12); descriptive only. */
export interface Provenance {
  sourceRevision?: string;
  builder?: string;
  /** Seconds since 1970-01-01 UTC. */
  buildTime?: number;
}

/** A manifest as the host builds it (formats/SPEC.md §4). */
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
  /** Where the image starts in the device's address space (key 17, informative; e.g. from Intel HEX input). */
  loadAddress?: number;
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
  if (m.loadAddress !== undefined && !isUint(m.loadAddress)) throw new Error("load-address must be a uint");
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
  if (m.loadAddress !== undefined) map.set(ManifestKey.LOAD_ADDRESS, m.loadAddress);
  if (m.extra) for (const [k, v] of m.extra) map.set(k, v);
  return map;
}

/** Deterministic manifest bytes (the COSE payload). Set `check` false to build invalid test input. */
export function encodeManifest(m: Manifest, check = true): Uint8Array {
  if (check) checkManifest(m);
  return encodeCanonical(manifestToCbor(m));
}

/**
 * A manifest read back from bytes: each known field that is present with the right type
 * (and byte length) is set, the others are absent; integer keys fwseal does not know are
 * in `extra`. Nothing here says the manifest is valid (checkManifest / the verifier do).
 */
export type DecodedManifest = Partial<Omit<Manifest, "extra">> & { extra: Map<number, Cbor> };

const KNOWN_KEYS: ReadonlySet<number> = new Set<number>(Object.values(ManifestKey));

/** Reads the fields of a decoded manifest map (see DecodedManifest). */
export function manifestFromCbor(map: CborMap): DecodedManifest {
  const num = (v: Cbor | undefined): number | undefined => (typeof v === "number" ? v : undefined);
  const text = (v: Cbor | undefined): string | undefined => (typeof v === "string" ? v : undefined);
  const bytes = (v: Cbor | undefined, len: number): Uint8Array | undefined => (v instanceof Uint8Array && v.length === len ? v : undefined);
  const d: DecodedManifest = { extra: new Map() };
  const set = <K extends keyof DecodedManifest>(k: K, v: DecodedManifest[K] | undefined): void => {
    if (v !== undefined) d[k] = v;
  };
  set("formatVersion", num(map.get(ManifestKey.FORMAT_VERSION)));
  set("vendorId", bytes(map.get(ManifestKey.VENDOR_ID), Limits.UUID_LEN));
  set("classId", bytes(map.get(ManifestKey.CLASS_ID), Limits.UUID_LEN));
  set("sequence", num(map.get(ManifestKey.SEQUENCE)));
  set("version", text(map.get(ManifestKey.VERSION)));
  set("imageSize", num(map.get(ManifestKey.IMAGE_SIZE)));
  set("chunkSize", num(map.get(ManifestKey.CHUNK_SIZE)));
  set("chunkCount", num(map.get(ManifestKey.CHUNK_COUNT)));
  set("chainHead", bytes(map.get(ManifestKey.CHAIN_HEAD), Limits.HASH_LEN));
  set("payloadEncoding", num(map.get(ManifestKey.PAYLOAD_ENCODING)));
  const params = map.get(ManifestKey.ENCODING_PARAMS);
  if (params instanceof Map) d.encodingParams = params;
  const prov = map.get(ManifestKey.PROVENANCE);
  if (prov instanceof Map) {
    const p: Provenance = {};
    const sr = text(prov.get(ProvenanceKey.SOURCE_REVISION));
    const b = text(prov.get(ProvenanceKey.BUILDER));
    const bt = num(prov.get(ProvenanceKey.BUILD_TIME));
    if (sr !== undefined) p.sourceRevision = sr;
    if (b !== undefined) p.builder = b;
    if (bt !== undefined) p.buildTime = bt;
    d.provenance = p;
  }
  set("sbomDigest", bytes(map.get(ManifestKey.SBOM_DIGEST), Limits.HASH_LEN));
  set("releaseNotes", text(map.get(ManifestKey.RELEASE_NOTES)));
  set("keyEpochFloor", num(map.get(ManifestKey.KEY_EPOCH_FLOOR)));
  set("loadAddress", num(map.get(ManifestKey.LOAD_ADDRESS)));
  const crit = map.get(ManifestKey.CRIT);
  if (Array.isArray(crit)) d.crit = crit.filter((x): x is number => typeof x === "number");
  for (const [k, v] of map) if (typeof k === "number" && !KNOWN_KEYS.has(k)) d.extra.set(k, v);
  return d;
}

/** Decodes manifest bytes (strict unless `opts.lenient`); throws if they are not one CBOR map. */
export function decodeManifest(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedManifest {
  const m = decodeCanonical(bytes, opts);
  if (!(m instanceof Map)) throw new Error("manifest is not a CBOR map");
  return manifestFromCbor(m);
}

const REQUIRED: [keyof Manifest, number][] = [
  ["vendorId", ManifestKey.VENDOR_ID],
  ["classId", ManifestKey.CLASS_ID],
  ["sequence", ManifestKey.SEQUENCE],
  ["version", ManifestKey.VERSION],
  ["imageSize", ManifestKey.IMAGE_SIZE],
  ["chunkSize", ManifestKey.CHUNK_SIZE],
  ["chunkCount", ManifestKey.CHUNK_COUNT],
  ["chainHead", ManifestKey.CHAIN_HEAD]
];

/** Strictly decodes a manifest that must carry every mandatory field; throws naming the first missing key. */
export function decodeCompleteManifest(bytes: Uint8Array): Manifest {
  const d = decodeManifest(bytes);
  for (const [field, key] of REQUIRED) if (d[field] === undefined) throw new Error(`manifest key ${key} missing`);
  return d as Manifest;
}
