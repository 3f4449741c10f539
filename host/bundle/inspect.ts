// fwseal inspect: decode a bundle's envelope WITHOUT a key and describe it: manifest
// fields, signers and key IDs, delegation certificates, chunk layout and sizes. Nothing
// here is a verdict: the bytes are attacker-controlled and unverified (use verify).
import * as fsp from "node:fs/promises";
import { Limits } from "../../formats/device-safe/limits.js";
import { CoseTag, HeaderLabel, ManifestKey, ProvenanceKey, CertKey } from "../../formats/device-safe/labels.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { keyIdHex } from "../keys/keys.js";
import { CborTagged, decodeItem, decodeOne, type CborValue } from "./cbor-generic.js";
import { FwsealError, inputError } from "../errors.js";
import { openInput } from "../io/input-file.js";
import { exitCodeForReason } from "../exit-codes.js";
import { decodeRootStatement } from "../keys/root-retirement.js";

const ENCODING_NAMES = ["raw", "compressed", "encrypted", "delta"];
const ALG_NAMES: Record<string, string> = { "-19": "Ed25519", "-8": "EdDSA" };

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

export interface SignerInfoView {
  alg: string | null;
  keyId: string | null;
  crit: number[] | null;
  /** "root" when no certificate is attached (root-signed), "delegated" otherwise. */
  kind: "root" | "delegated";
  certificate: CertificateInfo | null;
}

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
}

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
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
function num(v: CborValue | undefined): number | null {
  return typeof v === "number" ? v : null;
}
function bytes(v: CborValue | undefined, len?: number): Uint8Array | null {
  return v instanceof Uint8Array && (len === undefined || v.length === len) ? v : null;
}
function uuid(v: CborValue | undefined): string | null {
  const b = bytes(v, Limits.UUID_LEN);
  return b ? formatUuid(b) : null;
}
function str(v: CborValue | undefined): string | null {
  return typeof v === "string" ? v : null;
}
function intList(v: CborValue | undefined): number[] | null {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : null;
}
function asMap(v: CborValue | undefined): Map<CborValue, CborValue> | null {
  return v instanceof Map ? v : null;
}

function malformed(msg: string): FwsealError {
  return new FwsealError("BUNDLE_REJECTED", `cannot decode envelope: ${msg}`, { exitCode: exitCodeForReason(Reason.MALFORMED), reason: Reason.MALFORMED, chunk: -1 });
}

function decodeEmbedded(b: Uint8Array, what: string, notes: string[]): CborValue | undefined {
  try {
    return decodeOne(b);
  } catch (e) {
    notes.push(`${what}: not decodable (${(e as Error).message})`);
    return undefined;
  }
}

function decodeCertificate(certValue: CborValue, notes: string[]): CertificateInfo {
  const info: CertificateInfo = {
    issuerKeyId: null, alg: null, formatVersion: null, subjectPublicKey: null, subjectKeyId: null,
    notBefore: null, notAfter: null, epoch: null, vendorId: null, classIds: null
  };
  if (!(certValue instanceof CborTagged) || certValue.tag !== CoseTag.SIGN1 || !Array.isArray(certValue.value) || certValue.value.length !== 4) {
    notes.push("certificate: not a tagged COSE_Sign1");
    return info;
  }
  const [prot, , payload] = certValue.value;
  const ph = prot instanceof Uint8Array ? asMap(decodeEmbedded(prot, "certificate protected header", notes)) : null;
  if (ph) {
    const kid = bytes(ph.get(HeaderLabel.KID), Limits.KEY_ID_LEN);
    info.issuerKeyId = kid ? hex(kid) : null;
    const alg = ph.get(HeaderLabel.ALG);
    info.alg = typeof alg === "number" ? (ALG_NAMES[String(alg)] ?? `alg ${alg}`) : null;
  }
  const body = payload instanceof Uint8Array ? asMap(decodeEmbedded(payload, "certificate body", notes)) : null;
  if (body) {
    info.formatVersion = num(body.get(CertKey.FORMAT_VERSION));
    const pk = bytes(body.get(CertKey.PUBLIC_KEY), 32);
    if (pk) {
      info.subjectPublicKey = hex(pk);
      info.subjectKeyId = keyIdHex(pk);
    }
    info.notBefore = num(body.get(CertKey.NOT_BEFORE));
    info.notAfter = num(body.get(CertKey.NOT_AFTER));
    info.epoch = num(body.get(CertKey.EPOCH));
    info.vendorId = uuid(body.get(CertKey.VENDOR_ID));
    const classes = body.get(CertKey.CLASS_IDS);
    info.classIds = Array.isArray(classes) ? classes.map((c) => uuid(c) ?? "?") : null;
  }
  return info;
}

function decodeSigner(prot: CborValue, unprot: CborValue, notes: string[]): SignerInfoView {
  const view: SignerInfoView = { alg: null, keyId: null, crit: null, kind: "root", certificate: null };
  const ph = prot instanceof Uint8Array ? asMap(decodeEmbedded(prot, "signer protected header", notes)) : null;
  if (ph) {
    const alg = ph.get(HeaderLabel.ALG);
    view.alg = typeof alg === "number" ? (ALG_NAMES[String(alg)] ?? `alg ${alg}`) : null;
    const kid = bytes(ph.get(HeaderLabel.KID));
    view.keyId = kid ? hex(kid) : null;
    view.crit = intList(ph.get(HeaderLabel.CRIT));
  }
  const uh = asMap(unprot);
  const cert = uh?.get(HeaderLabel.FWSEAL_CERT);
  if (cert !== undefined) {
    view.kind = "delegated";
    view.certificate = decodeCertificate(cert, notes);
  }
  return view;
}

function decodeManifest(m: Map<CborValue, CborValue>): ManifestView {
  const known = new Set<number>(Object.values(ManifestKey));
  const enc = num(m.get(ManifestKey.PAYLOAD_ENCODING));
  const prov = asMap(m.get(ManifestKey.PROVENANCE));
  let provenance: ManifestView["provenance"] = null;
  if (prov) {
    provenance = {};
    const sr = str(prov.get(ProvenanceKey.SOURCE_REVISION));
    const b = str(prov.get(ProvenanceKey.BUILDER));
    const bt = num(prov.get(ProvenanceKey.BUILD_TIME));
    if (sr !== null) provenance.sourceRevision = sr;
    if (b !== null) provenance.builder = b;
    if (bt !== null) provenance.buildTime = bt;
  }
  const sbom = bytes(m.get(ManifestKey.SBOM_DIGEST), 32);
  const head = bytes(m.get(ManifestKey.CHAIN_HEAD), 32);
  return {
    formatVersion: num(m.get(ManifestKey.FORMAT_VERSION)),
    vendorId: uuid(m.get(ManifestKey.VENDOR_ID)),
    classId: uuid(m.get(ManifestKey.CLASS_ID)),
    sequence: num(m.get(ManifestKey.SEQUENCE)),
    version: str(m.get(ManifestKey.VERSION)),
    imageSize: num(m.get(ManifestKey.IMAGE_SIZE)),
    chunkSize: num(m.get(ManifestKey.CHUNK_SIZE)),
    chunkCount: num(m.get(ManifestKey.CHUNK_COUNT)),
    chainHead: head ? hex(head) : null,
    payloadEncoding: enc === null ? null : (ENCODING_NAMES[enc] ?? `unknown (${enc})`),
    provenance,
    sbomDigest: sbom ? hex(sbom) : null,
    releaseNotes: str(m.get(ManifestKey.RELEASE_NOTES)),
    keyEpochFloor: num(m.get(ManifestKey.KEY_EPOCH_FLOOR)),
    crit: intList(m.get(ManifestKey.CRIT)),
    unknownKeys: [...m.keys()].filter((k): k is number => typeof k === "number" && !known.has(k))
  };
}

/** Describe an envelope held in `head` (the first bytes of a bundle). */
export function inspectBytes(head: Uint8Array, fileSize: number): InspectResult {
  let top: { value: CborValue; end: number };
  try {
    top = decodeItem(head.subarray(0, Math.min(head.length, Limits.MAX_ENVELOPE)), 0);
  } catch (e) {
    throw malformed(head.length >= Limits.MAX_ENVELOPE ? `not CBOR within the first ${Limits.MAX_ENVELOPE} bytes` : (e as Error).message);
  }
  const notes: string[] = [];
  const env = top.value;
  if (!(env instanceof CborTagged) || (env.tag !== CoseTag.SIGN1 && env.tag !== CoseTag.SIGN) || !Array.isArray(env.value) || env.value.length !== 4) {
    throw malformed("not a tagged COSE_Sign1 (18) or COSE_Sign (98)");
  }
  const [, , payload, last] = env.value;
  if (!(payload instanceof Uint8Array)) throw malformed("payload is not an embedded byte string");
  const mv = decodeEmbedded(payload, "manifest", notes);
  const mmap = asMap(mv);
  if (!mmap) throw malformed("manifest is not a CBOR map");
  const manifest = decodeManifest(mmap);
  if (manifest.vendorId === null && manifest.chainHead === null && manifest.imageSize === null && manifest.chunkCount === null) {
    // Signed, but not a manifest: name what it is instead of printing a page of "?".
    if (env.tag === CoseTag.SIGN1 && bytes(mmap.get(CertKey.PUBLIC_KEY), 32)) {
      throw malformed("this is a delegation certificate (fwseal delegate), not a bundle");
    }
    let statement = false;
    try {
      decodeRootStatement(head.subarray(0, top.end));
      statement = true;
    } catch {
      statement = false;
    }
    if (statement) throw malformed("this is a root-retirement statement (check it with fwseal retire-root --check), not a bundle");
    throw malformed("the signed payload is not a fwseal manifest (not a bundle)");
  }
  const signers: SignerInfoView[] = [];
  if (env.tag === CoseTag.SIGN1) {
    signers.push(decodeSigner(env.value[0], env.value[1], notes));
  } else if (Array.isArray(last)) {
    for (const s of last) {
      if (Array.isArray(s) && s.length === 3) signers.push(decodeSigner(s[0], s[1], notes));
      else notes.push("a COSE_Signature is not a 3-element array");
    }
  }
  const { imageSize, chunkCount } = manifest;
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
    notes
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
