// fwseal inspect: decode a bundle's envelope WITHOUT a key and describe it: manifest
// fields, signers and key IDs, delegation certificates, chunk layout and sizes. Nothing
// here is a verdict: the bytes are attacker-controlled and unverified (use verify).
import { Limits } from "../../formats/device-safe/limits.js";
import { CoseTag, CertKey, HeaderLabel } from "../../formats/device-safe/labels.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { CborTag, type Cbor, type CborMap } from "../../formats/host-only/cbor-encode.js";
import { decodeCanonical, decodeItem, type DecodeOptions } from "../../formats/host-only/cbor-decode.js";
import { readProtectedHeader } from "../../formats/host-only/cose.js";
import { manifestFromCbor, type DecodedManifest } from "../../formats/host-only/manifest.js";
import { encodingParamsFromCbor, codecName } from "../../formats/host-only/encoding-params.js";
import { readCertificate } from "../../formats/host-only/certificate.js";
import { decodeRootStatement } from "../../formats/host-only/root-statement.js";
import { keyIdHex } from "../keys/keys.js";
import { FwsealError, inputError } from "../errors.js";
import { openInput } from "../io/input-file.js";
import { exitCodeForReason } from "../exit-codes.js";
import { describeLogProof, type LogProofView } from "../log/proof-view.js";

/** Every embedded item is decoded to describe it, not to judge it. */
const LENIENT: DecodeOptions = { lenient: true };
const ENCODING_NAMES = ["raw", "compressed", "encrypted", "delta"];
const ALG_NAMES: Record<string, string> = { "-19": "Ed25519", "-8": "EdDSA", "-46": "HSS-LMS" };

/** A delegation certificate as inspect shows it (null: absent or of the wrong type). */
export interface CertificateInfo {
  issuerKeyId: string | null;
  alg: string | null;
  formatVersion: number | null;
  subjectPublicKey: string | null;
  subjectKeyId: string | null;
  notBefore: number | null;
  notAfter: number | null;
  epoch: number | null;
  vendorId: string | null;
  classIds: string[] | null;
}

/** One signer of the envelope as inspect shows it. */
export interface SignerInfoView {
  alg: string | null;
  keyId: string | null;
  crit: number[] | null;
  /** "root" when no certificate is attached (root-signed), "delegated" otherwise. */
  kind: "root" | "delegated";
  certificate: CertificateInfo | null;
}

/** The manifest as inspect shows it (null: absent or of the wrong type). */
export interface ManifestView {
  formatVersion: number | null;
  vendorId: string | null;
  classId: string | null;
  sequence: number | null;
  version: string | null;
  imageSize: number | null;
  chunkSize: number | null;
  chunkCount: number | null;
  chainHead: string | null;
  payloadEncoding: string | null;
  provenance: { sourceRevision?: string; builder?: string; buildTime?: number } | null;
  sbomDigest: string | null;
  releaseNotes: string | null;
  keyEpochFloor: number | null;
  crit: number[] | null;
  unknownKeys: number[];
  /** Manifest key 17 (informative): where the image starts in the device's memory; null if absent. */
  loadAddress: number | null;
  /** A compressed or delta payload (formats/SPEC.md §15): the wire stream the chain covers; null for raw (or unreadable parameters). */
  encodedPayload: EncodedPayloadView | null;
}

/** What a manifest says of an encoded payload's wire stream, codec and precursor. */
export interface EncodedPayloadView {
  wireSize: number;
  wireChunkCount: number;
  wireChainHead: string;
  codec: string;
  codecCode: number;
  windowBits: number | null;
  precursorChainHead: string | null;
  precursorSize: number | null;
  /** wire size / image size. */
  ratio: number | null;
}

/** What inspect reports about a bundle: a description, never a verdict. */
export interface InspectResult {
  fileSize: number;
  envelopeSize: number;
  envelopeType: "COSE_Sign1" | "COSE_Sign";
  manifest: ManifestView;
  signers: SignerInfoView[];
  /** envelope + image + 32 bytes per chunk, from the (unverified) manifest. */
  expectedBundleSize: number | null;
  /** Human notes on anything odd seen while decoding (not a verdict). */
  notes: string[];
  /** The transparency-log proof in the unprotected header (SPEC §14), null if none. */
  logProof: LogProofView | null;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
function hexOrNull(b: Uint8Array | undefined): string | null {
  return b ? hex(b) : null;
}
function uuidOrNull(b: Uint8Array | undefined): string | null {
  return b ? formatUuid(b) : null;
}
function algName(alg: number | undefined): string | null {
  return alg === undefined ? null : (ALG_NAMES[String(alg)] ?? `alg ${alg}`);
}

function malformed(msg: string): FwsealError {
  return new FwsealError("BUNDLE_REJECTED", `cannot decode envelope: ${msg}`, { exitCode: exitCodeForReason(Reason.MALFORMED), reason: Reason.MALFORMED, chunk: -1 });
}

function decodeEmbedded(b: Uint8Array, what: string, notes: string[]): Cbor | undefined {
  try {
    return decodeCanonical(b, LENIENT);
  } catch (e) {
    notes.push(`${what}: not decodable (${(e as Error).message})`);
    return undefined;
  }
}

function describeCertificate(certValue: Cbor, notes: string[]): CertificateInfo {
  const c = readCertificate(certValue, LENIENT);
  notes.push(...c.problems);
  const b = c.body;
  return {
    issuerKeyId: hexOrNull(c.issuerKeyId),
    alg: algName(c.alg),
    formatVersion: b.formatVersion ?? null,
    subjectPublicKey: hexOrNull(b.publicKey),
    subjectKeyId: b.publicKey ? keyIdHex(b.publicKey) : null,
    notBefore: b.notBefore ?? null,
    notAfter: b.notAfter ?? null,
    epoch: b.epoch ?? null,
    vendorId: uuidOrNull(b.vendorId),
    classIds: b.classIds ? b.classIds.map(formatUuid) : null
  };
}

function describeSigner(prot: Cbor, unprot: Cbor, notes: string[]): SignerInfoView {
  const view: SignerInfoView = { alg: null, keyId: null, crit: null, kind: "root", certificate: null };
  const ph = prot instanceof Uint8Array ? decodeEmbedded(prot, "signer protected header", notes) : undefined;
  if (ph instanceof Map) {
    const h = readProtectedHeader(ph);
    view.alg = algName(h.alg);
    view.keyId = hexOrNull(h.kid);
    view.crit = h.crit ?? null;
  }
  const cert = unprot instanceof Map ? unprot.get(HeaderLabel.FWSEAL_CERT) : undefined;
  if (cert !== undefined) {
    view.kind = "delegated";
    view.certificate = describeCertificate(cert, notes);
  }
  return view;
}

function describeManifest(m: DecodedManifest): ManifestView {
  const enc = m.payloadEncoding;
  return {
    formatVersion: m.formatVersion ?? null,
    vendorId: uuidOrNull(m.vendorId),
    classId: uuidOrNull(m.classId),
    sequence: m.sequence ?? null,
    version: m.version ?? null,
    imageSize: m.imageSize ?? null,
    chunkSize: m.chunkSize ?? null,
    chunkCount: m.chunkCount ?? null,
    chainHead: hexOrNull(m.chainHead),
    payloadEncoding: enc === undefined ? null : (ENCODING_NAMES[enc] ?? `unknown (${enc})`),
    provenance: m.provenance ?? null,
    sbomDigest: hexOrNull(m.sbomDigest),
    releaseNotes: m.releaseNotes ?? null,
    keyEpochFloor: m.keyEpochFloor ?? null,
    crit: m.crit ?? null,
    unknownKeys: [...m.extra.keys()],
    loadAddress: m.loadAddress ?? null,
    encodedPayload: describeEncoding(m)
  };
}

function describeEncoding(m: DecodedManifest): EncodedPayloadView | null {
  const p = encodingParamsFromCbor(m.payloadEncoding, m.encodingParams);
  if (p === null) return null;
  return {
    wireSize: p.wireSize,
    wireChunkCount: p.wireChunkCount,
    wireChainHead: Buffer.from(p.wireChainHead).toString("hex"),
    codec: codecName(p.codec),
    codecCode: p.codec,
    windowBits: p.windowBits ?? null,
    precursorChainHead: hexOrNull(p.precursorChainHead),
    precursorSize: p.precursorSize ?? null,
    ratio: m.imageSize ? Math.round((p.wireSize / m.imageSize) * 10000) / 10000 : null
  };
}

// Signed, but not a manifest: name what it is instead of printing a page of "?".
function notABundle(env: CborTag, payload: CborMap, envelope: Uint8Array): FwsealError {
  const pk = payload.get(CertKey.PUBLIC_KEY);
  if (env.tag === CoseTag.SIGN1 && pk instanceof Uint8Array && pk.length === 32) {
    return malformed("this is a delegation certificate (fwseal delegate), not a bundle");
  }
  try {
    decodeRootStatement(envelope);
    return malformed("this is a root-retirement statement (check it with fwseal retire-root --check), not a bundle");
  } catch {
    return malformed("the signed payload is not a fwseal manifest (not a bundle)");
  }
}

/** Describe an envelope held in `head` (the first bytes of a bundle). */
export function inspectBytes(head: Uint8Array, fileSize: number): InspectResult {
  let top: { value: Cbor; end: number };
  try {
    top = decodeItem(head.subarray(0, Math.min(head.length, Limits.MAX_ENVELOPE)), 0, LENIENT);
  } catch (e) {
    throw malformed(head.length >= Limits.MAX_ENVELOPE ? `not CBOR within the first ${Limits.MAX_ENVELOPE} bytes` : (e as Error).message);
  }
  const notes: string[] = [];
  const env = top.value;
  if (!(env instanceof CborTag) || (env.tag !== CoseTag.SIGN1 && env.tag !== CoseTag.SIGN) || !Array.isArray(env.value) || env.value.length !== 4) {
    throw malformed("not a tagged COSE_Sign1 (18) or COSE_Sign (98)");
  }
  const [prot, unprot, payload, last] = env.value;
  if (!(payload instanceof Uint8Array)) throw malformed("payload is not an embedded byte string");
  const mmap = decodeEmbedded(payload, "manifest", notes);
  if (!(mmap instanceof Map)) throw malformed("manifest is not a CBOR map");
  const manifest = describeManifest(manifestFromCbor(mmap));
  if (manifest.vendorId === null && manifest.chainHead === null && manifest.imageSize === null && manifest.chunkCount === null) {
    throw notABundle(env, mmap, head.subarray(0, top.end));
  }
  const signers: SignerInfoView[] = [];
  if (env.tag === CoseTag.SIGN1) {
    signers.push(describeSigner(prot, unprot, notes));
  } else if (Array.isArray(last)) {
    for (const s of last) {
      if (Array.isArray(s) && s.length === 3) signers.push(describeSigner(s[0], s[1], notes));
      else notes.push("a COSE_Signature is not a 3-element array");
    }
  }
  // The bundle carries the wire stream: the image itself, or its encoding (SPEC §15).
  const enc = manifest.encodedPayload;
  const imageSize = enc ? enc.wireSize : manifest.imageSize;
  const chunkCount = enc ? enc.wireChunkCount : manifest.chunkCount;
  const expectedBundleSize = imageSize !== null && chunkCount !== null ? top.end + imageSize + Limits.HASH_LEN * chunkCount : null;
  if (expectedBundleSize !== null && fileSize >= 0 && expectedBundleSize !== fileSize) {
    notes.push(`size: file is ${fileSize} bytes, the manifest implies ${expectedBundleSize}`);
  }
  for (const s of signers) {
    if (s.certificate && s.keyId !== null && s.certificate.subjectKeyId !== null && s.keyId !== s.certificate.subjectKeyId) {
      notes.push(`signer ${s.keyId}: certificate subject is ${s.certificate.subjectKeyId}`);
    }
  }
  return {
    fileSize,
    envelopeSize: top.end,
    envelopeType: env.tag === CoseTag.SIGN1 ? "COSE_Sign1" : "COSE_Sign",
    manifest,
    signers,
    expectedBundleSize,
    notes,
    logProof: describeLogProof(head.subarray(0, top.end))
  };
}

/** Describe the bundle file at `path` (reads only its first MAX_ENVELOPE bytes). */
export async function inspect(path: string): Promise<InspectResult> {
  const { fh, stat: st } = await openInput(path);
  try {
    const buf = Buffer.alloc(Math.min(Limits.MAX_ENVELOPE, st.size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return inspectBytes(new Uint8Array(buf.buffer, buf.byteOffset, bytesRead), st.size);
  } catch (e) {
    if (e instanceof FwsealError) throw e;
    throw inputError(path, e);
  } finally {
    await fh.close();
  }
}
