// Offline (air-gapped) and k-of-n signing (formats/SPEC.md §12): a DRAFT bundle carries the
// manifest and the chunk stream but no envelope yet; key holders add one signature each
// (`fwseal sign` with a key file or a token, or `fwseal attach-signature` for a signature
// made elsewhere, e.g. `openssl pkeyutl -sign -rawin`); `fwseal finalize` builds the
// COSE_Sign envelope, checks the whole bundle with the device verifier against the given
// policy, and only then writes it.
//
//   draft file = draft-header || chunk[0] || ... || chunk[n-1]     (chunks exactly as in the bundle)
//   draft-header = ["fwseal/draft/v1", payload: bstr .cbor manifest,
//                   [* [protected, unprotected, signature, public-key]], policy: {? 1: k, ? 2: [* kid]}]
//
// Each signer's to-be-signed bytes are the COSE_Sign Sig_structure
//   ["Signature", h'', {1: -19, 4: kid}, h'', payload]
// fixed by the manifest and the signer's own public key only: signatures can be collected
// in any order, on different machines, and none invalidates another.
import * as crypto from "node:crypto";
import * as fsp from "node:fs/promises";
import { Cbor, CborMap, CborRaw, encodeCanonical } from "../../formats/host-only/cbor-encode.js";
import { CborItemScanner } from "../../formats/device-safe/cbor-reader.js";
import { decodeCanonical, CborDecodeError } from "../../formats/host-only/cbor-decode.js";
import { encodeProtectedHeader, encodeSign, sigStructureSign } from "../../formats/host-only/cose.js";
import { parseCertificate } from "../../formats/host-only/certificate.js";
import { keyId, toHex } from "../../formats/host-only/keyid.js";
import { CoseTag, HeaderLabel, ManifestKey } from "../../formats/device-safe/labels.js";
import { ALG_ED25519, Limits } from "../../formats/device-safe/limits.js";
import { Reason, reasonName } from "../../formats/device-safe/reasons.js";
import { formatUuid, vendorUuid, classUuid } from "../../formats/host-only/uuid.js";
import { prepareBundle, writeBundle, type BundleOptions, type ImageSource } from "../../formats/host-only/bundle-builder.js";
import { AtomicFile } from "../io/atomic-write.js";
import { openInput } from "../io/input-file.js";
import { FwsealError, rejectionError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { createNodePrimitives } from "./node-primitives.js";
import { verifyBlocks, type ManifestSummary, type VerifyPolicy, type VerifyResult } from "./verify.js";
import type { Signer } from "../keys/signer.js";

export const DRAFT_MAGIC = "fwseal/draft/v1";
/** Largest draft header read (the envelope bound plus room for the public keys). */
export const MAX_DRAFT_HEADER = 2 * Limits.MAX_ENVELOPE;
const EMPTY = new Uint8Array(0);
const BLOCK = 1 << 20;

export interface DraftSignature {
  protected: Uint8Array;
  certificate?: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
  keyId: string;
}

export interface DraftPolicy {
  /** k: signatures finalize will require by default. */
  threshold?: number;
  /** Key IDs (hex) allowed to sign this draft; absent = anyone (the verifier decides trust). */
  signers?: string[];
}

/** The manifest fields `verify` reports, read from a draft's (not yet signed) payload. */
export type DraftManifestSummary = Omit<ManifestSummary, "payloadEncoding">;

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

// ---------------------------------------------------------------- encoding

function protectedFor(publicKey: Uint8Array): Uint8Array {
  return encodeProtectedHeader({ alg: ALG_ED25519, kid: keyId(publicKey, nodeSha256) });
}

/** The exact bytes `publicKey`'s holder signs for this draft (COSE_Sign Sig_structure). */
export function draftToBeSigned(payload: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new FwsealError("KEY_CORRUPT", "an Ed25519 public key is 32 bytes");
  return sigStructureSign(EMPTY, protectedFor(publicKey), payload);
}

export function encodeDraftHeader(payload: Uint8Array, sigs: DraftSignature[], policy: DraftPolicy): Uint8Array {
  const pm: CborMap = new Map<number, Cbor>();
  if (policy.threshold !== undefined) pm.set(1, policy.threshold);
  if (policy.signers !== undefined) pm.set(2, policy.signers.map((h) => new Uint8Array(Buffer.from(h, "hex"))));
  const entries: Cbor[] = sigs.map((s) => {
    const u: CborMap = new Map<number, Cbor>();
    if (s.certificate) u.set(HeaderLabel.FWSEAL_CERT, new CborRaw(s.certificate));
    return [s.protected, u, s.signature, s.publicKey];
  });
  return encodeCanonical([DRAFT_MAGIC, payload, entries, pm]);
}

// ---------------------------------------------------------------- reading

function summarizeManifest(payload: Uint8Array, path: string): DraftManifestSummary {
  let m: Cbor;
  try {
    m = decodeCanonical(payload);
  } catch (e) {
    throw malformed(path, `manifest: ${(e as Error).message}`);
  }
  if (!(m instanceof Map)) throw malformed(path, "manifest is not a map");
  const num = (k: number): number => {
    const v = m.get(k);
    if (typeof v !== "number") throw malformed(path, `manifest key ${k} missing`);
    return v;
  };
  const bytes = (k: number, n: number): Uint8Array => {
    const v = m.get(k);
    if (!(v instanceof Uint8Array) || v.length !== n) throw malformed(path, `manifest key ${k} missing`);
    return v;
  };
  const version = m.get(ManifestKey.VERSION);
  const floor = m.get(ManifestKey.KEY_EPOCH_FLOOR);
  return {
    vendorId: formatUuid(bytes(ManifestKey.VENDOR_ID, 16)),
    classId: formatUuid(bytes(ManifestKey.CLASS_ID, 16)),
    sequence: num(ManifestKey.SEQUENCE),
    version: typeof version === "string" ? version : "",
    imageSize: num(ManifestKey.IMAGE_SIZE),
    chunkSize: num(ManifestKey.CHUNK_SIZE),
    chunkCount: num(ManifestKey.CHUNK_COUNT),
    chainHead: toHex(bytes(ManifestKey.CHAIN_HEAD, 32)),
    keyEpochFloor: typeof floor === "number" ? floor : null
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
  const prefix = encodeCanonical([DRAFT_MAGIC]).subarray(1); // the magic tstr
  if (head.length < 1 + prefix.length || !head.subarray(1, 1 + prefix.length).equals(prefix)) {
    if (head.length > 0 && (head[0] === 0xd2 || head[0] === 0xd8)) {
      throw new FwsealError("USAGE", `${path}: is a finished bundle, not a draft (make one with fwseal pack --unsigned)`);
    }
    throw malformed(path, "no draft header");
  }
  const sc = new CborItemScanner();
  sc.reset(MAX_DRAFT_HEADER);
  const n = sc.scan(head, head.length);
  if (n <= 0) throw malformed(path, n === 0 ? "header truncated" : `header: ${reasonName(-n)}`);
  let top: Cbor;
  try {
    top = decodeCanonical(head.subarray(0, n), { allowTags: [CoseTag.SIGN1] });
  } catch (e) {
    throw malformed(path, e instanceof CborDecodeError ? e.message : String(e));
  }
  if (!Array.isArray(top) || top.length !== 4 || top[0] !== DRAFT_MAGIC) throw malformed(path, "header is not [magic, payload, signatures, policy]");
  const [, payload, sigList, pol] = top;
  if (!(payload instanceof Uint8Array) || !Array.isArray(sigList) || !(pol instanceof Map)) throw malformed(path, "header field types");
  const manifest = summarizeManifest(payload, path);
  const signatures: DraftSignature[] = [];
  for (const e of sigList) {
    if (!Array.isArray(e) || e.length !== 4) throw malformed(path, "signature entry");
    const [prot, unprot, sig, pk] = e;
    if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(sig instanceof Uint8Array) || sig.length !== 64 || !(pk instanceof Uint8Array) || pk.length !== 32) {
      throw malformed(path, "signature entry field types");
    }
    const cert = unprot.get(HeaderLabel.FWSEAL_CERT);
    const ds: DraftSignature = { protected: prot, signature: sig, publicKey: pk, keyId: toHex(keyId(pk, nodeSha256)) };
    if (cert !== undefined) ds.certificate = encodeCanonical(cert);
    signatures.push(ds);
  }
  const policy: DraftPolicy = {};
  const k = pol.get(1);
  if (typeof k === "number") policy.threshold = k;
  const ks = pol.get(2);
  if (Array.isArray(ks)) policy.signers = ks.map((x) => (x instanceof Uint8Array ? toHex(x) : "?"));
  const expected = manifest.imageSize + manifest.chunkCount * Limits.HASH_LEN;
  const chunkStreamLength = fileSize - n;
  if (chunkStreamLength !== expected) {
    throw malformed(path, `chunk stream is ${chunkStreamLength} bytes, the manifest says ${expected}`);
  }
  return { path, payload, manifest, signatures, policy, headerLength: n, fileSize, chunkStreamLength };
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
async function writeDraftFile(d: Draft, header: Uint8Array, output: string): Promise<number> {
  const f = await AtomicFile.open(output, { overwrite: true });
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
}

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

/** `fwseal pack --unsigned`: a draft with no signatures yet. */
export async function createDraft(opts: DraftOptions): Promise<DraftResult> {
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
    return { output: opts.output, draftSize: size, manifest: summarizeManifest(prepared.manifestBytes, opts.output), payload: prepared.manifestBytes, policy };
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
}

function certSubjectCheck(cert: Uint8Array, publicKey: Uint8Array, what: string): void {
  let subject: Uint8Array;
  try {
    subject = parseCertificate(cert).body.publicKey;
  } catch (e) {
    throw new FwsealError("KEY_CORRUPT", `${what}: not a fwseal delegation certificate (${(e as Error).message})`);
  }
  if (!Buffer.from(subject).equals(Buffer.from(publicKey))) {
    throw new FwsealError("KEY_WRONG_TYPE", `${what}: certifies key ${toHex(keyId(subject, nodeSha256))}, not the signing key ${toHex(keyId(publicKey, nodeSha256))}`);
  }
}

/**
 * Add one signature to a draft, after checking it: Ed25519 over this signer's
 * to-be-signed bytes (the device core's own verification), not a second signature by the
 * same key, an allowed signer if the draft names them, at most MAX_SIGNERS.
 */
export async function addSignature(
  draftPath: string,
  sig: { publicKey: Uint8Array; signature: Uint8Array; certificate?: Uint8Array },
  opts: { output?: string; certPath?: string } = {}
): Promise<AddSignatureResult> {
  const d = await readDraft(draftPath);
  const kidHex = toHex(keyId(sig.publicKey, nodeSha256));
  if (sig.signature.length !== 64) {
    throw new FwsealError("BUNDLE_REJECTED", `signature is ${sig.signature.length} bytes; an Ed25519 signature is 64 (raw, as openssl pkeyutl -sign -rawin writes it)`, { exitCode: ExitCode.TRUST, reason: Reason.BAD_SIGNATURE, chunk: -1 });
  }
  if (sig.certificate) certSubjectCheck(sig.certificate, sig.publicKey, opts.certPath ?? "certificate");
  if (d.signatures.some((s) => s.keyId === kidHex)) {
    throw new FwsealError("USAGE", `${draftPath}: already signed by key ${kidHex} (a key counts once)`);
  }
  if (d.policy.signers !== undefined && !d.policy.signers.includes(kidHex)) {
    throw new FwsealError("BUNDLE_REJECTED", `key ${kidHex} is not one of the signers this draft allows (${d.policy.signers.join(", ")})`, { exitCode: ExitCode.TRUST, reason: Reason.KEY_NOT_AUTHORIZED, chunk: -1 });
  }
  if (d.signatures.length >= Limits.MAX_SIGNERS) throw new FwsealError("USAGE", `${draftPath}: already has ${Limits.MAX_SIGNERS} signatures, the most a bundle can carry`);
  const tbs = draftToBeSigned(d.payload, sig.publicKey);
  const prim = createNodePrimitives();
  if (!prim.ed25519Verify(sig.publicKey, sig.signature, tbs, 0, tbs.length)) {
    throw new FwsealError("BUNDLE_REJECTED", `signature does not match: it is not key ${kidHex}'s signature over this draft's to-be-signed bytes (fwseal tbs ${draftPath} --signer-key ...)`, { exitCode: ExitCode.TRUST, reason: Reason.BAD_SIGNATURE, chunk: -1 });
  }
  const entry: DraftSignature = { protected: protectedFor(sig.publicKey), signature: sig.signature, publicKey: sig.publicKey, keyId: kidHex };
  if (sig.certificate) entry.certificate = sig.certificate;
  const sigs = [...d.signatures, entry];
  const header = encodeDraftHeader(d.payload, sigs, d.policy);
  const output = opts.output ?? draftPath;
  const size = await writeDraftFile(d, header, output);
  return { output, keyId: kidHex, signatures: sigs.length, draftSize: size, draft: { ...d, signatures: sigs, headerLength: header.length, fileSize: size, path: output } };
}

/** `fwseal sign`: sign the draft with a key (file or token) and add the signature. */
export async function signDraft(draftPath: string, signer: Signer, opts: { output?: string; certPath?: string } = {}): Promise<AddSignatureResult> {
  const d = await readDraft(draftPath);
  const kidHex = toHex(keyId(signer.publicKey, nodeSha256));
  // Refuse early, before the key is used (a token may count signatures or ask for a PIN).
  if (d.signatures.some((s) => s.keyId === kidHex)) throw new FwsealError("USAGE", `${draftPath}: already signed by key ${kidHex} (a key counts once)`);
  if (d.policy.signers !== undefined && !d.policy.signers.includes(kidHex)) {
    throw new FwsealError("BUNDLE_REJECTED", `key ${kidHex} is not one of the signers this draft allows (${d.policy.signers.join(", ")})`, { exitCode: ExitCode.TRUST, reason: Reason.KEY_NOT_AUTHORIZED, chunk: -1 });
  }
  if (signer.certificate) certSubjectCheck(signer.certificate, signer.publicKey, opts.certPath ?? "certificate");
  const signature = await signer.sign(draftToBeSigned(d.payload, signer.publicKey));
  return addSignature(draftPath, { publicKey: signer.publicKey, signature, certificate: signer.certificate }, opts);
}

// ---------------------------------------------------------------- finalizing

export interface FinalizeOptions {
  output: string;
  /** k; default the draft's own policy threshold, else 1. */
  threshold?: number;
  /** Trust and device policy the result must pass (roots in slot order, etc.). */
  policy: Omit<VerifyPolicy, "threshold">;
  overwrite?: boolean;
}

export interface FinalizeResult {
  output: string;
  bundleSize: number;
  envelopeSize: number;
  threshold: number;
  signers: string[];
  verify: VerifyResult;
  manifest: DraftManifestSummary;
}

/** Build the envelope, verify the whole bundle as a device would, then write it. */
export async function finalizeDraft(draftPath: string, opts: FinalizeOptions): Promise<FinalizeResult> {
  const d = await readDraft(draftPath);
  const k = opts.threshold ?? d.policy.threshold ?? 1;
  checkPolicyFeasible(k, d.policy.signers?.length);
  if (opts.policy.roots.length < 1) throw new FwsealError("USAGE", "--root is required (the device's root keys, in slot order)");
  // Every signature must still match its key (a draft is an unprotected file between steps).
  const prim = createNodePrimitives();
  for (const s of d.signatures) {
    const tbs = draftToBeSigned(d.payload, s.publicKey);
    if (!prim.ed25519Verify(s.publicKey, s.signature, tbs, 0, tbs.length)) {
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
    sorted.map((s) => {
      const u: CborMap = new Map<number, Cbor>();
      if (s.certificate) u.set(HeaderLabel.FWSEAL_CERT, new CborRaw(s.certificate));
      return { protected: s.protected, unprotected: u, signature: s.signature };
    })
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
    if (!v.valid) {
      throw rejectionError(v.reason, v.chunk, "finalize: the signed bundle does not pass the policy");
    }
    await out.commit();
    return {
      output: opts.output,
      bundleSize: written,
      envelopeSize: envelope.length,
      threshold: k,
      signers: sorted.map((s) => s.keyId),
      verify: v,
      manifest: d.manifest
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
