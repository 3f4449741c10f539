// fwseal pack: image file -> bundle file, streaming, one read pass over the image.
//
// The chain is computed back to front (H_i needs H_{i+1}), so the image is read from its
// end in large blocks with positional reads. The envelope's length does not depend on the
// chain head or the signature bytes (fixed-size byte strings in deterministic CBOR), so it
// is known before hashing: every chunk is written straight to its final place in the
// output (envelope length + i * (chunk size + 32)), and the signed envelope goes at offset
// 0 last. Memory: a few blocks of BLOCK bytes, whatever the image size.
import * as fsp from "node:fs/promises";
import { createHash } from "node:crypto";
import { Limits } from "../../formats/device-safe/limits.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { checkChunkCount, checkChunkSize, chunkCountFor, writeChunkPrefix } from "../../formats/device-safe/chunk-layout.js";
import { encodeManifest, type Manifest, type Provenance } from "../../formats/host-only/manifest.js";
import { buildUnsignedEnvelope, attachSignatures, type EnvelopeOptions } from "../../formats/host-only/cose.js";
import { vendorUuid, classUuid, formatUuid } from "../../formats/host-only/uuid.js";
import { parseCertificate } from "../../formats/host-only/certificate.js";
import { keyIdHex } from "../../formats/host-only/keyid.js";
import { sequenceRecords } from "../audit/audit-log.js";
import { AtomicFile, assertOutputNotInput } from "../io/atomic-write.js";
import { FwsealError, inputError } from "../errors.js";
import { openInput } from "../io/input-file.js";
import { throwIfAborted } from "../io/abort.js";
import type { HexGaps } from "../io/intel-hex.js";
import { openImageInput, type ImageFormat } from "./image-input.js";
import { sha256Latin1, ZERO_HASH_LATIN1 } from "./chunk-hash.js";
import { startFileSha256 } from "./file-sha256-worker.js";
import type { Signer } from "../keys/signer.js";
import { checkBundleBeforeWrite, checkReleaseSigners, type ReleaseCheckOptions } from "./release-check.js";
import { chainedBody, encodePayload, type PayloadEncodingOptions } from "./encode-payload.js";
import { chainHeadOf } from "./precursor.js";
import { encodingParamsToCbor, type EncodedPayload } from "../../formats/host-only/encoding-params.js";

/** Bytes per positional read; a multiple of every chunk size (1 MiB, see VERIFY_BLOCK). */
export const PACK_BLOCK = 1024 * 1024;

/** Options of pack: the image, the output, signers, and what the manifest says. */
export interface PackOptions extends ReleaseCheckOptions {
  /** Image file to pack. */
  image: string;
  /** Bundle file to write (atomically). */
  output: string;
  /** One signer (COSE_Sign1) or several (COSE_Sign). */
  signers: Signer[];
  /** Vendor domain name or UUID. */
  vendor: string | Uint8Array;
  /** Device class name or UUID. */
  deviceClass: string | Uint8Array;
  sequence: number;
  version: string;
  /** Power of two in 256..65536; default 4096. */
  chunkSize?: number;
  provenance?: Provenance;
  /** SHA-256 of the SBOM document (see sbomDigestOfFile). */
  sbomDigest?: Uint8Array;
  releaseNotes?: string;
  keyEpochFloor?: number;
  /** A compressed or delta payload (formats/SPEC.md §15); absent: raw. */
  payload?: PayloadEncodingOptions;
  /** Manifest fields for tests (a payload encoding without its parameters, crit, unknown keys). */
  payloadEncoding?: number;
  crit?: number[];
  extraManifest?: Manifest["extra"];
  /** COSE options (force COSE_Sign with one signer, alg, extra crit: tests). */
  envelope?: EnvelopeOptions;
  /** Called as image bytes are hashed: (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Replace an existing output file (default true). */
  overwrite?: boolean;
  /** fsync the bundle before the rename (default false: atomic, not crash-durable). */
  fsync?: boolean;
  /** Audit log whose pack / finalize records must not hold this sequence for this vendor and
   *  class with another chain head (see checkSequenceUnused); absent: no check. */
  sequenceLog?: string;
  /** Stops the pack at the next block: throws FwsealError ABORTED, the partial output removed. */
  signal?: AbortSignal;
  /** "auto" (default: Intel HEX when the file starts with a valid record), "binary" or "ihex". */
  inputFormat?: ImageFormat;
  /** Intel HEX: fill gaps between data records with 0xFF (default) or refuse them. */
  hexGaps?: HexGaps;
}

/** What pack wrote: sizes, chunk geometry, chain head, vendor and class IDs, signer key IDs. */
export interface PackResult {
  output: string;
  bundleSize: number;
  envelopeSize: number;
  imageSize: number;
  chunkSize: number;
  chunkCount: number;
  chainHead: Uint8Array;
  vendorId: Uint8Array;
  classId: Uint8Array;
  signerKeyIds: string[];
  /** Refusals `force` let through (host/bundle/release-check.ts). */
  warnings: string[];
  /** How the image was read: raw binary or Intel HEX. */
  inputFormat: "binary" | "ihex";
  /** Intel HEX: the load address put in the manifest (key 17); absent for a binary image. */
  loadAddress?: number;
  /** SHA-256 of the image as packed (for Intel HEX: of the binary image, not the text). */
  imageSha256: Uint8Array;
  /** A compressed or delta payload: what the manifest says of the wire stream. */
  encoded?: EncodedPayload;
}

const nodeSha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(d).digest());

/** SHA-256 of a file, streaming (for --sbom). */
export async function sha256File(path: string): Promise<Uint8Array> {
  const { fh } = await openInput(path);
  try {
    const h = createHash("sha256");
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    return new Uint8Array(h.digest());
  } catch (e) {
    throw inputError(path, e);
  } finally {
    await fh.close();
  }
}

function usage(msg: string): FwsealError {
  return new FwsealError("USAGE", msg);
}

function toUuid(v: string | Uint8Array, what: string, vendor?: Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== Limits.UUID_LEN) throw usage(`${what} must be 16 bytes`);
    return v;
  }
  try {
    return vendor ? classUuid(vendor, v) : vendorUuid(v);
  } catch (e) {
    throw usage(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Refuses a key-epoch floor (SPEC §8.3) above the epoch of any signer's certificate: once
 * devices confirmed the release, that signer would be revoked and the release would no
 * longer boot (devices answer KEY_NOT_AUTHORIZED). Root signers have no epoch.
 */
export function checkKeyEpochFloor(floor: number | undefined, signers: readonly Signer[]): void {
  if (floor === undefined) return;
  for (const s of signers) {
    if (!s.certificate) continue;
    let epoch: number;
    try {
      epoch = parseCertificate(s.certificate).body.epoch;
    } catch {
      continue; // an unreadable certificate is the certificate checks' finding, not this one's
    }
    if (floor > epoch) {
      throw usage(`key-epoch-floor ${floor} is above the epoch ${epoch} of the certificate of key ${keyIdHex(s.publicKey, nodeSha256)}: devices would refuse the release (KEY_NOT_AUTHORIZED)`);
    }
  }
}

/**
 * Refuses a sequence that the audit log at `logPath` already records for this vendor and
 * class with a different chain head: devices refuse a different image at an equal sequence
 * (SPEC §8.2, ROLLBACK), so such a bundle is dead on every device that ran the other one.
 * The same chain head (the same release, re-signed) is fine.
 */
export async function checkSequenceUnused(logPath: string, vendorId: Uint8Array, classId: Uint8Array, sequence: number, chainHead: Uint8Array): Promise<void> {
  const head = Buffer.from(chainHead).toString("hex");
  const other = (await sequenceRecords(logPath, formatUuid(vendorId), formatUuid(classId), sequence)).find((r) => r.summary?.chainHead !== head);
  if (other) {
    throw usage(`sequence ${sequence} is already used for this vendor and class by another image (${logPath} record #${other.seq}, ${other.op}): devices refuse it (ROLLBACK); use a higher --seq, or --force`);
  }
}

/** Pack `opts.image` (binary or Intel HEX) into a signed bundle at `opts.output`. */
export async function pack(opts: PackOptions): Promise<PackResult> {
  const input = await openImageInput(opts.image, opts.inputFormat, opts.hexGaps);
  // The image SHA-256: on a worker thread during the chain pass for a large image, else
  // afterwards here (file-sha256-worker.ts).
  const size = (await fsp.stat(input.path).catch(() => null))?.size ?? 0;
  const imageDigest = startFileSha256(input.path, size);
  try {
    const r = await packBinary({ ...opts, image: input.path }, opts.image, input.loadAddress);
    const imageSha256 = imageDigest ? await imageDigest.result().catch((e) => Promise.reject(inputError(input.path, e))) : await sha256File(input.path);
    return { ...r, imageSha256, inputFormat: input.format, ...(input.loadAddress !== undefined ? { loadAddress: input.loadAddress } : {}) };
  } finally {
    await imageDigest?.cancel();
    await input.dispose();
  }
}

/** Packs the binary image at `opts.image`; `source` is the file the caller named (checked against the output). */
async function packBinary(opts: PackOptions, source: string, loadAddress: number | undefined): Promise<Omit<PackResult, "inputFormat" | "loadAddress" | "imageSha256">> {
  const cs = opts.chunkSize ?? 4096;
  if (!Number.isInteger(cs) || checkChunkSize(cs, Limits.MAX_CHUNK_SIZE) !== Reason.OK) {
    throw usage(`chunk size must be a power of two from ${Limits.MIN_CHUNK_SIZE} to ${Limits.MAX_CHUNK_SIZE}`);
  }
  if (opts.signers.length < 1) throw usage("at least one signing key is required");
  if (opts.signers.length > Limits.MAX_SIGNERS) throw usage(`at most ${Limits.MAX_SIGNERS} signing keys`);
  const vendorId = toUuid(opts.vendor, "vendor");
  const classId = toUuid(opts.deviceClass, "class", vendorId);
  checkKeyEpochFloor(opts.keyEpochFloor, opts.signers);
  throwIfAborted(opts.signal, "pack");
  const warnings = checkReleaseSigners(opts.signers, { vendorId, classId }, opts);

  const { fh: img, stat: st } = await openInput(opts.image, { regularFile: true });
  let outFile: AtomicFile | null = null;
  try {
    const imageSize = st.size;
    if (imageSize < 1) throw new FwsealError("INPUT_UNREADABLE", `${opts.image}: image is empty`);
    const chunkCount = chunkCountFor(imageSize, cs);
    if (checkChunkCount(imageSize, cs, chunkCount) !== Reason.OK) throw usage(`image too large for chunk size ${cs}: more than ${Limits.MAX_CHUNK_COUNT} chunks`);

    const manifest: Manifest = {
      vendorId, classId, sequence: opts.sequence, version: opts.version, imageSize, chunkSize: cs, chunkCount,
      chainHead: new Uint8Array(Limits.HASH_LEN),
      provenance: opts.provenance, sbomDigest: opts.sbomDigest, releaseNotes: opts.releaseNotes, keyEpochFloor: opts.keyEpochFloor,
      payloadEncoding: opts.payloadEncoding, crit: opts.crit, extra: opts.extraManifest, loadAddress
    };
    const envOpts: EnvelopeOptions = { sha256: nodeSha256, ...opts.envelope };
    const signerInfo = opts.signers.map((s) => ({ publicKey: s.publicKey, certificate: s.certificate }));
    if (opts.payload) {
      assertOutputNotInput(opts.output, [opts.image, source]);
      return await packEncoded(opts, img, manifest, envOpts, signerInfo, warnings);
    }
    // The envelope with a zero chain head and zero signatures has the final envelope's length.
    let probe: Uint8Array;
    try {
      const m0 = encodeManifest(manifest);
      const u0 = buildUnsignedEnvelope(m0, signerInfo, envOpts);
      probe = attachSignatures(u0, opts.signers.map((s) => new Uint8Array(s.signatureLength ?? 64)));
    } catch (e) {
      throw usage((e as Error).message);
    }
    const envelopeSize = probe.length;

    assertOutputNotInput(opts.output, [opts.image, source]);
    outFile = await AtomicFile.open(opts.output, { overwrite: opts.overwrite ?? true, fsync: opts.fsync ?? false });
    const chainHead = await writeChainBackToFront(img, outFile, imageSize, cs, chunkCount, envelopeSize, opts.onProgress, opts.signal);

    if (opts.sequenceLog !== undefined) await checkSequenceUnused(opts.sequenceLog, vendorId, classId, opts.sequence, chainHead);
    manifest.chainHead = chainHead;
    const mBytes = encodeManifest(manifest);
    const u = buildUnsignedEnvelope(mBytes, signerInfo, envOpts);
    const envelope = await signEnvelope(u, opts.signers);
    if (envelope.length !== envelopeSize) throw new FwsealError("INTERNAL", "envelope length changed after signing");
    await outFile.write(envelope, 0);
    warnings.push(...(await checkBundleBeforeWrite(outFile.tempPath, { vendorId, classId }, opts)));
    throwIfAborted(opts.signal, "pack");
    await outFile.commit();
    return {
      output: opts.output,
      bundleSize: envelopeSize + imageSize + Limits.HASH_LEN * chunkCount,
      envelopeSize, imageSize, chunkSize: cs, chunkCount, chainHead, vendorId, classId,
      signerKeyIds: u.signers.map((s) => Buffer.from(s.keyId).toString("hex")),
      warnings
    };
  } catch (e) {
    if (outFile) await outFile.abort();
    throw e;
  } finally {
    await img.close();
  }
}

/** Each signer signs its to-be-signed bytes; the envelope with the signatures (KEY_TOKEN for a signature of the wrong length). */
async function signEnvelope(u: ReturnType<typeof buildUnsignedEnvelope>, signers: readonly Signer[]): Promise<Uint8Array> {
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) {
    const sig = await signers[i].sign(u.signers[i].toBeSigned);
    const want = signers[i].signatureLength ?? 64;
    if (sig.length !== want) throw new FwsealError("KEY_TOKEN", `signer ${i + 1} returned a ${sig.length}-byte signature (expected ${want})`);
    sigs.push(sig);
  }
  return attachSignatures(u, sigs);
}

/** Reads a whole file through its handle (an encoded payload is built in memory). */
async function readWhole(fh: fsp.FileHandle, size: number): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, got);
    if (bytesRead === 0) throw new FwsealError("INPUT_UNREADABLE", "image file shrank while being packed");
    got += bytesRead;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, size);
}

/** pack's path for a compressed or delta payload (formats/SPEC.md §15). */
async function packEncoded(
  opts: PackOptions, img: fsp.FileHandle, manifest: Manifest, envOpts: EnvelopeOptions,
  signerInfo: { publicKey: Uint8Array; certificate?: Uint8Array }[], warnings: string[]
): Promise<Omit<PackResult, "inputFormat" | "loadAddress" | "imageSha256">> {
  const cs = manifest.chunkSize;
  const image = await readWhole(img, manifest.imageSize);
  throwIfAborted(opts.signal, "pack");
  manifest.chainHead = await chainHeadOf(image, cs);
  const { wire, params } = await encodePayload(image, cs, opts.payload as PayloadEncodingOptions);
  throwIfAborted(opts.signal, "pack");
  opts.onProgress?.(image.length, image.length);
  manifest.payloadEncoding = params.encoding;
  manifest.encodingParams = encodingParamsToCbor(params);
  if (opts.sequenceLog !== undefined) await checkSequenceUnused(opts.sequenceLog, manifest.vendorId, manifest.classId, opts.sequence, manifest.chainHead);
  let mBytes: Uint8Array;
  try {
    mBytes = encodeManifest(manifest);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const u = buildUnsignedEnvelope(mBytes, signerInfo, envOpts);
  const envelope = await signEnvelope(u, opts.signers);
  const body = await chainedBody(wire, cs);
  const outFile = await AtomicFile.open(opts.output, { overwrite: opts.overwrite ?? true, fsync: opts.fsync ?? false });
  try {
    await outFile.write(envelope, 0);
    await outFile.write(body, envelope.length);
    warnings.push(...(await checkBundleBeforeWrite(outFile.tempPath, { vendorId: manifest.vendorId, classId: manifest.classId }, opts)));
    throwIfAborted(opts.signal, "pack");
    await outFile.commit();
  } catch (e) {
    await outFile.abort();
    throw e;
  }
  return {
    output: opts.output,
    bundleSize: envelope.length + body.length,
    envelopeSize: envelope.length, imageSize: manifest.imageSize, chunkSize: cs, chunkCount: manifest.chunkCount, chainHead: manifest.chainHead,
    vendorId: manifest.vendorId, classId: manifest.classId,
    signerKeyIds: u.signers.map((s) => Buffer.from(s.keyId).toString("hex")),
    warnings,
    encoded: params
  };
}

/**
 * The back-to-front pass: reads the image in PACK_BLOCK blocks from the end, computes
 * H_i = SHA-256(CHUNK_DOMAIN || be32(i) || data_i || next_i) for each chunk, and writes
 * data_i || next_i at envelopeSize + i * (cs + 32). Returns H_0.
 *
 * A block is read (one readv) straight into an output buffer behind PAD bytes of headroom,
 * chunk j at PAD + j*(cs+32), its slot in the output; last chunk first, next_j goes after
 * chunk j and the 20-byte hash prefix just before it, over space where chunk j-1's next
 * hash goes afterwards, so each hash is ONE call over contiguous bytes. The next read and
 * the previous write run in libuv's thread pool while this block is hashed.
 */
async function writeChainBackToFront(
  img: fsp.FileHandle, out: AtomicFile, imageSize: number, cs: number, n: number, envelopeSize: number,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal
): Promise<Uint8Array> {
  const P = Limits.CHUNK_PREFIX_LEN;
  const H = Limits.HASH_LEN;
  const PAD = 32;
  const chunksPerBlock = Math.max(1, Math.floor(PACK_BLOCK / cs));
  const blockBytes = chunksPerBlock * cs;
  const slot = cs + H;
  // Four rotating buffers: a block's buffer is refilled only after its write (issued three
  // blocks earlier) completed, so reads, hashing and writes rarely wait on each other.
  const NBUF = 4;
  const bufs = Array.from({ length: NBUF }, () => Buffer.allocUnsafe(PAD + chunksPerBlock * slot));
  let next = ZERO_HASH_LATIN1; // next_{n-1} = 0^32
  const blockCount = Math.ceil(n / chunksPerBlock);

  // Every in-flight promise gets a no-op catch so that an error elsewhere never turns it
  // into an unhandled rejection; it is still awaited (and rethrows) on the normal path.
  const track = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return p;
  };
  // Every full chunk's hash input is a view made once per buffer (no per-chunk allocation).
  // (readv straight into the slots was tried: no faster than read + memmove here.)
  const hashViews = bufs.map((buf) => Array.from({ length: chunksPerBlock }, (_, j) => buf.subarray(PAD + j * slot - P, PAD + (j + 1) * slot)));
  // Block b covers chunks [b*cpb, min(n, (b+1)*cpb)).
  // Each chunk is read straight into its slot (one readv per block: no copy to spread them).
  const slotViews = bufs.map((buf) => Array.from({ length: chunksPerBlock }, (_, j) => buf.subarray(PAD + j * slot, PAD + j * slot + cs)));
  const readBlock = async (b: number, k: number): Promise<number> => {
    const start = b * blockBytes;
    const len = Math.min(blockBytes, imageSize - start);
    const count = Math.ceil(len / cs);
    const views = slotViews[k].slice(0, count);
    if (len < count * cs) views[count - 1] = views[count - 1].subarray(0, len - (count - 1) * cs);
    await readvFully(img, views, start, len);
    return len;
  };

  let done = 0;
  const writes: (Promise<void> | null)[] = bufs.map(() => null);
  let pendingRead = track(readBlock(blockCount - 1, (blockCount - 1) % NBUF));
  for (let b = blockCount - 1; b >= 0; b--) {
    const len = await pendingRead;
    if (signal?.aborted) {
      for (const w of writes) if (w) await w.catch(() => undefined); // settle before the caller removes the file
      throwIfAborted(signal, "pack");
    }
    const k = b % NBUF;
    const buf = bufs[k];
    if (b > 0) {
      const other = (b - 1) % NBUF;
      const w = writes[other];
      if (w) await w; // its previous contents must be on their way to disk before reuse
      writes[other] = null;
      pendingRead = track(readBlock(b - 1, other));
    }
    const first = b * chunksPerBlock;
    const count = Math.ceil(len / cs);
    const views = hashViews[k];
    for (let j = count - 1; j >= 0; j--) {
      const dLen = j === count - 1 ? len - j * cs : cs;
      const dst = PAD + j * slot;
      buf.write(next, dst + dLen, H, "latin1");
      writeChunkPrefix(buf, dst - P, first + j);
      next = sha256Latin1(dLen === cs ? views[j] : buf.subarray(dst - P, dst + dLen + H));
    }
    const outLen = len + count * H;
    writes[k] = track(out.write(buf.subarray(PAD, PAD + outLen), envelopeSize + first * slot));
    done += len;
    onProgress?.(done, imageSize);
  }
  for (const w of writes) if (w) await w;
  return new Uint8Array(Buffer.from(next, "latin1"));
}

/** Reads `len` bytes at `position` into `views` in turn (readv, repeated after a short read). */
async function readvFully(fh: fsp.FileHandle, views: Buffer[], position: number, len: number): Promise<void> {
  let got = 0;
  let rest = views;
  while (got < len) {
    const { bytesRead } = await fh.readv(rest, position + got);
    if (bytesRead === 0) throw new FwsealError("INPUT_UNREADABLE", "image file shrank while being packed");
    got += bytesRead;
    // Drop the views filled; the first one not filled continues where the read stopped.
    let n = bytesRead;
    while (rest.length > 0 && n >= rest[0].length) {
      n -= rest[0].length;
      rest = rest.slice(1);
    }
    if (n > 0) rest = [rest[0].subarray(n), ...rest.slice(1)];
  }
}
