// Offline (air-gapped) and k-of-n signing (formats/SPEC.md §12): a DRAFT bundle carries the
// manifest and the chunk stream but no envelope yet; key holders add one signature each
// (`fwseal sign` with a key file or a token, or `fwseal attach-signature` for a signature
// made elsewhere, e.g. `openssl pkeyutl -sign -rawin`); `fwseal finalize` builds the
// COSE_Sign envelope, checks the whole bundle with the device verifier against the given
// policy, and only then writes it. The draft header format is formats/host-only/draft.ts.
import { verdictError } from "./rejection-diagnosis.js";
import { signatureMatches } from "../keys/signature-check.js";
import * as crypto from "node:crypto";
import * as fsp from "node:fs/promises";
import { resolve } from "node:path";
import {
  DRAFT_MAGIC, MAX_DRAFT_HEADER, decodeDraftHeader, draftProtectedHeader, draftToBeSigned as draftSigStructure,
  encodeDraftHeader, startsWithDraftMagic, type DraftPolicy, type DraftSignature
} from "../../formats/host-only/draft.js";
import { encodeSign, unprotectedFor } from "../../formats/host-only/cose.js";
import { keyId, toHex } from "../../formats/host-only/keyid.js";
import { decodeCompleteManifest, type Manifest } from "../../formats/host-only/manifest.js";
import { Limits } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { formatUuid, vendorUuid, classUuid, parseUuid } from "../../formats/host-only/uuid.js";
import { prepareBundle, writeBundle, type BundleOptions, type ImageSource } from "../../formats/host-only/bundle-builder.js";
import { AtomicFile } from "../io/atomic-write.js";
import { openInput } from "../io/input-file.js";
import { FwsealError, rejectionError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { createNodePrimitives } from "./node-primitives.js";
import { openImageInput, type ImageFormat } from "./image-input.js";
import type { HexGaps } from "../io/intel-hex.js";
import { verifyBlocks, type ManifestSummary, type VerifyPolicy, type VerifyResult } from "./verify.js";
import type { Signer } from "../keys/signer.js";
import { signerProblem } from "../keys/delegate.js";

export { DRAFT_MAGIC, MAX_DRAFT_HEADER, encodeDraftHeader, type DraftPolicy, type DraftSignature };
const EMPTY = new Uint8Array(0);
const BLOCK = 1 << 20;

/** The manifest fields `verify` reports, read from a draft's (not yet signed) payload. */
export type DraftManifestSummary = Omit<ManifestSummary, "payloadEncoding" | "encodedPayload">;

/** A draft file: its header decoded, its chunk stream measured. */
export interface Draft {
  path: string;
  payload: Uint8Array;
  manifest: DraftManifestSummary;
  signatures: DraftSignature[];
  policy: DraftPolicy;
  headerLength: number;
  fileSize: number;
  /** Bytes after the header: the chunk stream (must match the manifest). */
  chunkStreamLength: number;
}

const nodeSha256 = (d: Uint8Array): Uint8Array => new Uint8Array(crypto.createHash("sha256").update(d).digest());

function malformed(path: string, why: string): FwsealError {
  return new FwsealError("BUNDLE_REJECTED", `${path}: not a valid fwseal draft (${why})`, { exitCode: ExitCode.BUNDLE_MALFORMED, reason: Reason.MALFORMED, chunk: -1 });
}

/** The exact bytes `publicKey`'s holder signs for this draft (COSE_Sign Sig_structure). */
export function draftToBeSigned(payload: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32 && publicKey.length !== 60) throw new FwsealError("KEY_CORRUPT", "a public key is 32 bytes (Ed25519) or 60 bytes (HSS/LMS)");
  return draftSigStructure(payload, publicKey);
}

function summarizeManifest(m: Manifest): DraftManifestSummary {
  return {
    vendorId: formatUuid(m.vendorId),
    classId: formatUuid(m.classId),
    sequence: m.sequence,
    version: m.version,
    imageSize: m.imageSize,
    chunkSize: m.chunkSize,
    chunkCount: m.chunkCount,
    chainHead: toHex(m.chainHead),
    keyEpochFloor: m.keyEpochFloor ?? null
  };
}

/** Parse a draft's header (the chunk stream is only measured, not read). */
export async function readDraft(path: string): Promise<Draft> {
  const { fh, stat: st } = await openInput(path);
  let head: Buffer;
  let fileSize: number;
  try {
    fileSize = st.size;
    head = Buffer.alloc(Math.min(fileSize, MAX_DRAFT_HEADER));
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (!startsWithDraftMagic(head)) {
    if (head.length > 0 && (head[0] === 0xd2 || head[0] === 0xd8)) {
      throw new FwsealError("USAGE", `${path}: is a finished bundle, not a draft (make one with fwseal pack --unsigned)`);
    }
    throw malformed(path, "no draft header");
  }
  let h;
  try {
    h = decodeDraftHeader(head);
  } catch (e) {
    throw malformed(path, (e as Error).message);
  }
  const manifest = summarizeManifest(h.manifest);
  const expected = manifest.imageSize + manifest.chunkCount * Limits.HASH_LEN;
  const chunkStreamLength = fileSize - h.length;
  if (chunkStreamLength !== expected) {
    throw malformed(path, `chunk stream is ${chunkStreamLength} bytes, the manifest says ${expected}`);
  }
  return { path, payload: h.payload, manifest, signatures: h.signatures, policy: h.policy, headerLength: h.length, fileSize, chunkStreamLength };
}

/** Stream the draft's chunk bytes (everything after the header) in blocks. */
async function* chunkStream(d: Draft): AsyncGenerator<Uint8Array> {
  const { fh } = await openInput(d.path);
  try {
    let pos = d.headerLength;
    const buf = Buffer.allocUnsafe(BLOCK);
    while (pos < d.fileSize) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(BLOCK, d.fileSize - pos), pos);
      if (bytesRead === 0) throw new FwsealError("INPUT_UNREADABLE", `${d.path}: file shrank while being read`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Write header || chunk stream of `d` to `output` atomically (output may be d.path). */
async function writeDraftFile(d: Draft, header: Uint8Array, output: string, overwrite = true): Promise<number> {
  const f = await AtomicFile.open(output, { overwrite: overwrite || resolve(output) === resolve(d.path) });
  try {
    await f.write(header);
    let total = header.length;
    for await (const b of chunkStream(d)) {
      await f.write(b);
      total += b.length;
    }
    await f.commit();
    return total;
  } catch (e) {
    await f.abort();
    throw e;
  }
}

// ---------------------------------------------------------------- creating

export interface DraftOptions extends Omit<BundleOptions, "vendorId" | "classId" | "sha256" | "envelope"> {
  image: string;
  output: string;
  /** Vendor domain or UUID (string) or 16 bytes. */
  vendor: string | Uint8Array;
  deviceClass: string | Uint8Array;
  policy?: DraftPolicy;
  overwrite?: boolean;
  /** "auto" (default: Intel HEX when the file starts with a valid record), "binary" or "ihex". */
  inputFormat?: ImageFormat;
  /** Intel HEX: fill gaps with 0xFF (default) or refuse them. */
  hexGaps?: HexGaps;
}

/** The draft written. */
export interface DraftResult {
  output: string;
  draftSize: number;
  manifest: DraftManifestSummary;
  payload: Uint8Array;
  policy: DraftPolicy;
}

function fileSource(fh: fsp.FileHandle, size: number): ImageSource {
  return {
    size,
    read: async (off, dst, dstOff, len) => {
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(dst, dstOff + got, len - got, off + got);
        if (bytesRead === 0) throw new FwsealError("INPUT_UNREADABLE", "image file shrank while being read");
        got += bytesRead;
      }
    }
  };
}

/** Check a policy can be met at all (before anyone spends a key ceremony on it). */
export function checkPolicyFeasible(threshold: number, namedSigners?: number): void {
  if (!Number.isInteger(threshold) || threshold < 1) throw new FwsealError("USAGE", "threshold must be a positive integer");
  if (threshold > Limits.MAX_SIGNERS) {
    throw new FwsealError("USAGE", `policy can never be met: threshold ${threshold} exceeds the ${Limits.MAX_SIGNERS} signatures a bundle can carry`);
  }
  if (namedSigners !== undefined && threshold > namedSigners) {
    throw new FwsealError("USAGE", `policy can never be met: threshold ${threshold} but only ${namedSigners} signer(s) are allowed`);
  }
}

/** `fwseal pack --unsigned`: a draft with no signatures yet (binary or Intel HEX image). */
export async function createDraft(opts: DraftOptions): Promise<DraftResult> {
  const input = await openImageInput(opts.image, opts.inputFormat, opts.hexGaps);
  try {
    const { inputFormat: _f, hexGaps: _g, ...rest } = opts;
    return await createDraftFromBinary({ ...rest, image: input.path, loadAddress: input.loadAddress });
  } finally {
    await input.dispose();
  }
}

async function createDraftFromBinary(opts: DraftOptions): Promise<DraftResult> {
  const policy = opts.policy ?? {};
  if (policy.signers !== undefined) {
    if (new Set(policy.signers).size !== policy.signers.length) throw new FwsealError("USAGE", "the same signer is named twice");
    if (policy.signers.length > Limits.MAX_SIGNERS) throw new FwsealError("USAGE", `at most ${Limits.MAX_SIGNERS} signers`);
  }
  if (policy.threshold !== undefined) checkPolicyFeasible(policy.threshold, policy.signers?.length);
  let vendorId: Uint8Array;
  let classId: Uint8Array;
  try {
    vendorId = opts.vendor instanceof Uint8Array ? opts.vendor : vendorUuid(opts.vendor);
    classId = opts.deviceClass instanceof Uint8Array ? opts.deviceClass : classUuid(vendorId, opts.deviceClass);
  } catch (e) {
    throw new FwsealError("USAGE", (e as Error).message);
  }
  const { fh, stat: st } = await openInput(opts.image, { regularFile: true });
  let out: AtomicFile | null = null;
  try {
    if (st.size < 1) throw new FwsealError("INPUT_UNREADABLE", `${opts.image}: image is empty`);
    const src = fileSource(fh, st.size);
    const { image: _i, output: _o, vendor: _v, deviceClass: _c, policy: _p, overwrite: _w, ...manifestOpts } = opts;
    let prepared;
    try {
      prepared = await prepareBundle(src, { ...manifestOpts, vendorId, classId, sha256: nodeSha256 });
    } catch (e) {
      if (e instanceof FwsealError) throw e;
      throw new FwsealError("USAGE", (e as Error).message);
    }
    const header = encodeDraftHeader(prepared.manifestBytes, [], policy);
    out = await AtomicFile.open(opts.output, { overwrite: opts.overwrite ?? true });
    const f = out;
    const size = await writeBundle(src, prepared, header, (b) => f.write(b));
    await out.commit();
    return { output: opts.output, draftSize: size, manifest: summarizeManifest(decodeCompleteManifest(prepared.manifestBytes)), payload: prepared.manifestBytes, policy };
  } catch (e) {
    if (out) await out.abort();
    throw e;
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------- signing

export interface AddSignatureResult {
  output: string;
  keyId: string;
  signatures: number;
  draftSize: number;
  draft: Draft;
  /** Problems --force let through (a certificate a device would refuse for this draft). */
  warnings: string[];
}

/** Options of signDraft and addSignature. */
export interface SignDraftOptions {
  /** Write the signed draft here (default: update the draft in place). */
  output?: string;
  /** The certificate's file name, for messages. */
  certPath?: string;
  /** Replace an existing `output` other than the draft itself (default true). */
  overwrite?: boolean;
  /** Sign even with a certificate a device would refuse for this draft; the problem becomes a warning. */
  force?: boolean;
  /** Signing time for the certificate's window, seconds since 1970 (default the host clock). */
  now?: number;
}

/**
 * The checks a device makes on a delegated signer, against this draft: the certificate
 * certifies the key (else KEY_WRONG_TYPE, always thrown), covers the manifest's vendor and
 * class, and is valid now. Throws the device's reason, or with `force` returns it as a warning.
 */
function certificateCheck(d: Draft, publicKey: Uint8Array, certificate: Uint8Array, opts: SignDraftOptions): string[] {
  const target = { vendorId: parseUuid(d.manifest.vendorId), classId: parseUuid(d.manifest.classId), now: opts.now };
  const problem = signerProblem({ publicKey, certificate }, target, opts.certPath ?? "certificate");
  if (problem === null) return [];
  if (!opts.force) throw problem;
  return [problem.message];
}

/**
 * Add one signature to a draft, after checking it: Ed25519 over this signer's
 * to-be-signed bytes (the device core's own verification), not a second signature by the
 * same key, an allowed signer if the draft names them, at most MAX_SIGNERS.
 */
export async function addSignature(
  draftPath: string,
  sig: { publicKey: Uint8Array; signature: Uint8Array; certificate?: Uint8Array },
  opts: SignDraftOptions = {}
): Promise<AddSignatureResult> {
  const d = await readDraft(draftPath);
  const kidHex = toHex(keyId(sig.publicKey, nodeSha256));
  if (sig.publicKey.length !== 60 && sig.signature.length !== 64) {
    throw new FwsealError("BUNDLE_REJECTED", `signature is ${sig.signature.length} bytes; an Ed25519 signature is 64 (raw, as openssl pkeyutl -sign -rawin writes it)`, { exitCode: ExitCode.TRUST, reason: Reason.BAD_SIGNATURE, chunk: -1 });
  }
  const warnings = sig.certificate ? certificateCheck(d, sig.publicKey, sig.certificate, opts) : [];
  if (d.signatures.some((s) => s.keyId === kidHex)) {
    throw new FwsealError("USAGE", `${draftPath}: already signed by key ${kidHex} (a key counts once)`);
  }
  if (d.policy.signers !== undefined && !d.policy.signers.includes(kidHex)) {
    throw new FwsealError("BUNDLE_REJECTED", `key ${kidHex} is not one of the signers this draft allows (${d.policy.signers.join(", ")})`, { exitCode: ExitCode.TRUST, reason: Reason.KEY_NOT_AUTHORIZED, chunk: -1 });
  }
  if (d.signatures.length >= Limits.MAX_SIGNERS) throw new FwsealError("USAGE", `${draftPath}: already has ${Limits.MAX_SIGNERS} signatures, the most a bundle can carry`);
  const tbs = draftToBeSigned(d.payload, sig.publicKey);
  if (!signatureMatches(sig.publicKey, tbs, sig.signature)) {
    throw new FwsealError("BUNDLE_REJECTED", `signature does not match: it is not key ${kidHex}'s signature over this draft's to-be-signed bytes (fwseal tbs ${draftPath} --signer-key ...)`, { exitCode: ExitCode.TRUST, reason: Reason.BAD_SIGNATURE, chunk: -1 });
  }
  const entry: DraftSignature = { protected: draftProtectedHeader(sig.publicKey), signature: sig.signature, publicKey: sig.publicKey, keyId: kidHex };
  if (sig.certificate) entry.certificate = sig.certificate;
  const sigs = [...d.signatures, entry];
  const header = encodeDraftHeader(d.payload, sigs, d.policy);
  const output = opts.output ?? draftPath;
  const size = await writeDraftFile(d, header, output, opts.overwrite ?? true);
  return { output, keyId: kidHex, signatures: sigs.length, draftSize: size, draft: { ...d, signatures: sigs, headerLength: header.length, fileSize: size, path: output }, warnings };
}

/** `fwseal sign`: sign the draft with a key (file or token) and add the signature. */
export async function signDraft(draftPath: string, signer: Signer, opts: SignDraftOptions = {}): Promise<AddSignatureResult> {
  const d = await readDraft(draftPath);
  const kidHex = toHex(keyId(signer.publicKey, nodeSha256));
  // Refuse early, before the key is used (a token may count signatures or ask for a PIN).
  if (d.signatures.some((s) => s.keyId === kidHex)) throw new FwsealError("USAGE", `${draftPath}: already signed by key ${kidHex} (a key counts once)`);
  if (d.policy.signers !== undefined && !d.policy.signers.includes(kidHex)) {
    throw new FwsealError("BUNDLE_REJECTED", `key ${kidHex} is not one of the signers this draft allows (${d.policy.signers.join(", ")})`, { exitCode: ExitCode.TRUST, reason: Reason.KEY_NOT_AUTHORIZED, chunk: -1 });
  }
  if (signer.certificate) certificateCheck(d, signer.publicKey, signer.certificate, opts);
  const signature = await signer.sign(draftToBeSigned(d.payload, signer.publicKey));
  return addSignature(draftPath, { publicKey: signer.publicKey, signature, certificate: signer.certificate }, opts);
}

// ---------------------------------------------------------------- finalizing

export interface FinalizeOptions {
  output: string;
  /** k; default the draft's own policy threshold, else 1. */
  threshold?: number;
  /**
   * Trust and device policy the result must pass (roots in slot order, root threshold:
   * distinct roots the signers must come through, etc.).
   */
  policy: Omit<VerifyPolicy, "threshold">;
  overwrite?: boolean;
  /** Write the bundle even if the policy's verifier refuses it; the verdict becomes a warning. */
  force?: boolean;
}

/** The finished bundle and the verifier's verdict on it. */
export interface FinalizeResult {
  output: string;
  bundleSize: number;
  envelopeSize: number;
  threshold: number;
  /** Distinct roots the counted signers came through, at least this many (policy). */
  rootThreshold: number;
  signers: string[];
  verify: VerifyResult;
  manifest: DraftManifestSummary;
  /** The verifier's refusal that `force` let through, if any. */
  warnings: string[];
}

/** Build the envelope, verify the whole bundle as a device would, then write it. */
export async function finalizeDraft(draftPath: string, opts: FinalizeOptions): Promise<FinalizeResult> {
  const d = await readDraft(draftPath);
  const k = opts.threshold ?? d.policy.threshold ?? 1;
  checkPolicyFeasible(k, d.policy.signers?.length);
  const rootK = opts.policy.rootThreshold ?? 1;
  if (opts.policy.roots.length < 1) throw new FwsealError("USAGE", "--root is required (the device's root keys, in slot order)");
  // Every signature must still match its key (a draft is an unprotected file between steps).
  for (const s of d.signatures) {
    const tbs = draftToBeSigned(d.payload, s.publicKey);
    if (!signatureMatches(s.publicKey, tbs, s.signature)) {
      throw new FwsealError("BUNDLE_REJECTED", `${draftPath}: the signature of key ${s.keyId} does not match the draft (draft modified after signing?)`, { exitCode: ExitCode.TRUST, reason: Reason.BAD_SIGNATURE, chunk: -1 });
    }
  }
  if (d.signatures.length < k) {
    throw new FwsealError("BUNDLE_REJECTED", `threshold not met: ${d.signatures.length} signature(s), policy needs ${k} distinct authorised signers (add more with fwseal sign / attach-signature)`, { exitCode: ExitCode.TRUST, reason: Reason.THRESHOLD_NOT_MET, chunk: -1 });
  }
  // Deterministic envelope: signers sorted by key ID, whatever order they signed in.
  const sorted = [...d.signatures].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  const envelope = encodeSign(
    EMPTY,
    new Map(),
    d.payload,
    sorted.map((s) => ({ protected: s.protected, unprotected: unprotectedFor(s.certificate), signature: s.signature }))
  );
  if (envelope.length > Limits.MAX_ENVELOPE) {
    throw rejectionError(Reason.TOO_LARGE, -1, `finalize: the envelope would be ${envelope.length} bytes (max ${Limits.MAX_ENVELOPE})`);
  }
  const out = await AtomicFile.open(opts.output, { overwrite: opts.overwrite ?? true });
  try {
    let written = 0;
    async function* blocks(): AsyncGenerator<Uint8Array> {
      await out.write(envelope);
      written += envelope.length;
      yield envelope;
      for await (const b of chunkStream(d)) {
        await out.write(b);
        written += b.length;
        yield b;
      }
    }
    const gen = blocks();
    let v: VerifyResult;
    try {
      v = await verifyBlocks(gen, { ...opts.policy, threshold: k }, {}, envelope.length + d.chunkStreamLength);
    } finally {
      await gen.return(undefined); // a rejection may stop reading early: close the draft file
    }
    const needs = rootK > 1 ? ` (${k} distinct keys through ${rootK} distinct roots)` : "";
    const refusal = v.valid ? null : verdictError(v, { ...opts.policy, threshold: k }, `finalize: the signed bundle does not pass the policy${v.reason === Reason.THRESHOLD_NOT_MET ? needs : ""}`);
    if (refusal && !opts.force) throw refusal;
    await out.commit();
    return {
      output: opts.output,
      bundleSize: written,
      envelopeSize: envelope.length,
      threshold: k,
      rootThreshold: rootK,
      signers: sorted.map((s) => s.keyId),
      verify: v,
      manifest: d.manifest,
      warnings: refusal ? [`${refusal.message} (written anyway: --force)`] : []
    };
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/** Describe a draft (for `fwseal tbs`, `sign`, scripts). */
export function draftSummary(d: Draft): { manifest: DraftManifestSummary; signatures: { keyId: string; delegated: boolean }[]; policy: DraftPolicy } {
  return {
    manifest: d.manifest,
    signatures: d.signatures.map((s) => ({ keyId: s.keyId, delegated: s.certificate !== undefined })),
    policy: d.policy
  };
}

export { reasonName };
