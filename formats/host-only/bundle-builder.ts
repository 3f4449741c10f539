// Builds bundles (formats/SPEC.md §1): envelope || chunk[0] || ... || chunk[n-1].
// Streaming: the image is read twice, chunk by chunk (back to front for the chain, then
// front to back for output); memory is one chunk plus 32 bytes per chunk.
import { Cbor } from "./cbor-encode.js";
import { ImageReader, chunkDataLen, chunkGeometry, computeChain, ChunkGeometry, ZERO_HASH } from "./chunk-chain.js";
import { EnvelopeOptions, EnvelopeSigner, SignerInfo, UnsignedEnvelope, attachSignatures, buildUnsignedEnvelope } from "./cose.js";
import { Manifest, encodeManifest } from "./manifest.js";
import { defaultSha256, Sha256Fn } from "./keyid.js";
import { Limits } from "../device-safe/limits.js";
import { encodingParamsToCbor, type EncodedPayload } from "./encoding-params.js";

/** An image to pack: its size and a random-access reader (file positions, not the whole file). */
export interface ImageSource {
  size: number;
  read: ImageReader;
}

export function imageSourceFromBytes(image: Uint8Array): ImageSource {
  return { size: image.length, read: (off, dst, dstOff, len) => dst.set(image.subarray(off, off + len), dstOff) };
}

/** The manifest fields a caller chooses (formats/host-only/manifest.ts); the builder computes the rest. */
type CallerManifestFields = "vendorId" | "classId" | "sequence" | "version" | "payloadEncoding" | "encodingParams" |
  "provenance" | "sbomDigest" | "releaseNotes" | "keyEpochFloor" | "crit" | "loadAddress";

export interface BundleOptions extends Pick<Manifest, CallerManifestFields> {
  /** Default 4096. */
  chunkSize?: number;
  /** Unknown manifest keys (tests / forward compatibility): Manifest.extra. */
  extraManifest?: Map<number, Cbor>;
  /** Envelope options: forceSign (COSE_Sign with one signer), alg, header crit. */
  envelope?: EnvelopeOptions;
  /** One-shot SHA-256; the host passes node:crypto's. Default @noble/hashes. */
  sha256?: Sha256Fn;
}

export const DEFAULT_CHUNK_SIZE = 4096;

/** Everything known before signing: the manifest and the chain. */
export interface PreparedBundle {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  geometry: ChunkGeometry;
  /** H_0..H_{n-1}, 32 bytes each. */
  hashes: Uint8Array;
}

/** Pass 1: compute the chain back to front and encode the manifest. */
export async function prepareBundle(src: ImageSource, opts: BundleOptions): Promise<PreparedBundle> {
  const g = chunkGeometry(src.size, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const hashes = await computeChain(src.read, g, opts.sha256 ?? defaultSha256);
  const manifest: Manifest = {
    vendorId: opts.vendorId,
    classId: opts.classId,
    sequence: opts.sequence,
    version: opts.version,
    imageSize: src.size,
    chunkSize: g.chunkSize,
    chunkCount: g.chunkCount,
    chainHead: hashes.slice(0, Limits.HASH_LEN),
    payloadEncoding: opts.payloadEncoding,
    encodingParams: opts.encodingParams,
    provenance: opts.provenance,
    sbomDigest: opts.sbomDigest,
    releaseNotes: opts.releaseNotes,
    keyEpochFloor: opts.keyEpochFloor,
    crit: opts.crit,
    loadAddress: opts.loadAddress,
    extra: opts.extraManifest,
  };
  return { manifest, manifestBytes: encodeManifest(manifest), geometry: g, hashes };
}

/** For offline signing: the unsigned envelope of a prepared bundle. */
export function prepareEnvelope(p: PreparedBundle, signers: SignerInfo[], opts: EnvelopeOptions = {}): UnsignedEnvelope {
  return buildUnsignedEnvelope(p.manifestBytes, signers, opts);
}

export type ByteWriter = (bytes: Uint8Array) => void | Promise<void>;

/** Pass 2: writes envelope then chunks (data_i || next_i) front to back. */
export async function writeBundle(src: ImageSource, p: PreparedBundle, envelope: Uint8Array, write: ByteWriter): Promise<number> {
  await write(envelope);
  const g = p.geometry;
  let total = envelope.length;
  for (let i = 0; i < g.chunkCount; i++) {
    const len = chunkDataLen(g, i);
    const out = new Uint8Array(len + Limits.HASH_LEN);
    await src.read(i * g.chunkSize, out, 0, len);
    const next = i + 1 < g.chunkCount ? p.hashes.subarray((i + 1) * 32, (i + 2) * 32) : ZERO_HASH;
    out.set(next, len);
    await write(out);
    total += out.length;
  }
  return total;
}

export interface PackResult {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  envelope: Uint8Array;
  bundleSize: number;
}

/** Streaming pack: chain, sign (Sign1 for one signer, Sign for several), write. */
export async function packBundle(src: ImageSource, opts: BundleOptions, signers: EnvelopeSigner[], write: ByteWriter): Promise<PackResult> {
  const p = await prepareBundle(src, opts);
  const unsigned = buildUnsignedEnvelope(p.manifestBytes, signers, { sha256: opts.sha256, ...opts.envelope });
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) sigs.push(await signers[i].sign(unsigned.signers[i].toBeSigned));
  const envelope = attachSignatures(unsigned, sigs);
  const bundleSize = await writeBundle(src, p, envelope, write);
  return { manifest: p.manifest, manifestBytes: p.manifestBytes, envelope, bundleSize };
}

/** Whole-bundle convenience for tests and servers. */
export async function buildBundle(image: Uint8Array, opts: BundleOptions, signers: EnvelopeSigner[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const r = await packBundle(imageSourceFromBytes(image), opts, signers, (b) => {
    parts.push(b);
  });
  const out = new Uint8Array(r.bundleSize);
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** What an encoded payload's manifest says besides the wire stream (formats/SPEC.md §15). */
export interface EncodedPayloadSpec {
  encoding: number;
  codec: number;
  windowBits?: number;
  precursorChainHead?: Uint8Array;
  precursorSize?: number;
}

/**
 * A bundle whose manifest names `image` (keys 6-9) and whose chunks carry `wire`, the
 * encoded stream (formats/SPEC.md §15). The two are taken as given, so tests and the golden
 * vectors can pair an image with a wire stream that does not decode to it.
 */
export async function buildEncodedBundle(image: Uint8Array, wire: Uint8Array, spec: EncodedPayloadSpec, opts: BundleOptions, signers: EnvelopeSigner[]): Promise<Uint8Array> {
  const sha256 = opts.sha256 ?? defaultSha256;
  const cs = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const wireSrc = imageSourceFromBytes(wire);
  const wg = chunkGeometry(wire.length, cs);
  const wireHashes = await computeChain(wireSrc.read, wg, sha256);
  const params: EncodedPayload = { ...spec, wireSize: wire.length, wireChunkCount: wg.chunkCount, wireChainHead: wireHashes.slice(0, Limits.HASH_LEN) };
  const p = await prepareBundle(imageSourceFromBytes(image), { ...opts, payloadEncoding: spec.encoding, encodingParams: encodingParamsToCbor(params) });
  const unsigned = buildUnsignedEnvelope(p.manifestBytes, signers, { sha256: opts.sha256, ...opts.envelope });
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) sigs.push(await signers[i].sign(unsigned.signers[i].toBeSigned));
  const envelope = attachSignatures(unsigned, sigs);
  const parts: Uint8Array[] = [];
  const size = await writeBundle(wireSrc, { ...p, geometry: wg, hashes: wireHashes }, envelope, (b) => {
    parts.push(b);
  });
  const out = new Uint8Array(size);
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}
