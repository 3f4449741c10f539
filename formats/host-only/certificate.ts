// Delegation certificates (formats/SPEC.md §5): a tagged COSE_Sign1 by a root key over a
// cert-body naming the release key, its epoch, validity window and vendor/class scope.
// Encoding, checks and decoding (strict for files the host loads, lenient for inspect).
import { Cbor, CborMap, CborTag } from "./cbor-encode.js";
import { encodeCanonical } from "./cbor-encode.js";
import { decodeCanonical, type DecodeOptions } from "./cbor-decode.js";
import { CertKey, CoseTag } from "../device-safe/labels.js";
import { Limits } from "../device-safe/limits.js";
import { EnvelopeSigner, encodeProtectedHeader, encodeSign1, readProtectedHeader, sigStructure1 } from "./cose.js";
import { checkSignatureLength, coseAlgForKey, defaultSha256, keyId, Sha256Fn } from "./keyid.js";

/** The signed content of a delegation certificate (SPEC §5 cert-body). */
export interface CertBody {
  /** Default 1. */
  formatVersion?: number;
  /** The release key's public key: Ed25519 (32 bytes) or HSS/LMS (60 bytes, RFC 8554). */
  publicKey: Uint8Array;
  /** Seconds since 1970-01-01 UTC. */
  notBefore?: number;
  notAfter?: number;
  epoch: number;
  /** Vendor the key may sign for (absent: any). */
  vendorId?: Uint8Array;
  /** Classes the key may sign for (absent: any). 1..8 entries. */
  classIds?: Uint8Array[];
}

/** Throws with a precise message if `b` would not make a valid certificate body. */
export function checkCertBody(b: CertBody): void {
  if (b.publicKey.length !== Limits.PUBLIC_KEY_LEN && b.publicKey.length !== Limits.HSS_PUBLIC_KEY_LEN) {
    throw new Error("certificate subject must be a 32-byte Ed25519 key or a 60-byte HSS/LMS key");
  }
  for (const t of [b.notBefore, b.notAfter, b.epoch])
    if (t !== undefined && !(Number.isSafeInteger(t) && t >= 0)) throw new Error("certificate times and epoch must be uints");
  if (b.notBefore !== undefined && b.notAfter !== undefined && b.notAfter < b.notBefore)
    throw new Error("certificate not-after is before not-before");
  if (b.vendorId && b.vendorId.length !== Limits.UUID_LEN) throw new Error("certificate vendor-id must be 16 bytes");
  if (b.classIds) {
    if (b.classIds.length < 1 || b.classIds.length > Limits.MAX_CERT_CLASSES)
      throw new Error(`certificate must list 1..${Limits.MAX_CERT_CLASSES} class-ids`);
    for (const c of b.classIds) if (c.length !== Limits.UUID_LEN) throw new Error("class-id must be 16 bytes");
  }
}

/** Deterministic cert-body bytes (the certificate's COSE payload). Set `check` false to build invalid test input. */
export function encodeCertBody(b: CertBody, check = true): Uint8Array {
  if (check) checkCertBody(b);
  const m: CborMap = new Map<number, Cbor>();
  m.set(CertKey.FORMAT_VERSION, b.formatVersion ?? Limits.FORMAT_VERSION);
  m.set(CertKey.PUBLIC_KEY, b.publicKey);
  if (b.notBefore !== undefined) m.set(CertKey.NOT_BEFORE, b.notBefore);
  if (b.notAfter !== undefined) m.set(CertKey.NOT_AFTER, b.notAfter);
  m.set(CertKey.EPOCH, b.epoch);
  if (b.vendorId) m.set(CertKey.VENDOR_ID, b.vendorId);
  if (b.classIds) m.set(CertKey.CLASS_IDS, b.classIds);
  return encodeCanonical(m);
}

/** A certificate waiting for the root's signature (offline ceremonies sign `toBeSigned`). */
export interface UnsignedCertificate {
  /** The issuing root's public key (its algorithm fixes the signature's). */
  issuer: Uint8Array;
  protected: Uint8Array;
  payload: Uint8Array;
  toBeSigned: Uint8Array;
}

/** Phase 1 of certifying with an offline root: the protected header, payload and the bytes the root signs. */
export function buildUnsignedCertificate(
  rootPublicKey: Uint8Array,
  body: CertBody,
  opts: { alg?: number; sha256?: Sha256Fn; check?: boolean } = {}
): UnsignedCertificate {
  const prot = encodeProtectedHeader({ alg: opts.alg ?? coseAlgForKey(rootPublicKey), kid: keyId(rootPublicKey, opts.sha256 ?? defaultSha256) });
  const payload = encodeCertBody(body, opts.check ?? true);
  return { issuer: rootPublicKey, protected: prot, payload, toBeSigned: sigStructure1(prot, payload) };
}

/** Phase 2: the tagged COSE_Sign1 certificate, given the root's signature (64 bytes Ed25519, or HSS/LMS). */
export function attachCertificateSignature(u: UnsignedCertificate, signature: Uint8Array): Uint8Array {
  checkSignatureLength(u.issuer, signature);
  return encodeSign1(u.protected, new Map(), u.payload, signature);
}

/** Signs `body` with the root key and returns the tagged COSE_Sign1 certificate bytes. */
export async function buildCertificate(rootSigner: EnvelopeSigner, body: CertBody, opts: { alg?: number; sha256?: Sha256Fn } = {}): Promise<Uint8Array> {
  const u = buildUnsignedCertificate(rootSigner.publicKey, body, opts);
  return attachCertificateSignature(u, await rootSigner.sign(u.toBeSigned));
}

/**
 * A certificate read field by field: each field with the right type and size is set, the
 * others are absent, and `problems` says what is wrong or missing (empty for a well-formed
 * certificate). Nothing here checks the signature or trust: that is the verifier's job.
 */
export interface CertificateReading {
  alg?: number;
  issuerKeyId?: Uint8Array;
  body: Partial<CertBody>;
  protected?: Uint8Array;
  payload?: Uint8Array;
  signature?: Uint8Array;
  problems: string[];
}

function embeddedMap(bytes: Uint8Array, what: string, opts: DecodeOptions, problems: string[]): CborMap | undefined {
  let v: Cbor;
  try {
    v = decodeCanonical(bytes, opts);
  } catch (e) {
    problems.push(`${what}: not decodable (${(e as Error).message})`);
    return undefined;
  }
  if (v instanceof Map) return v;
  problems.push(`${what}: not a map`);
  return undefined;
}

function certBodyFromCbor(bm: CborMap, problems: string[]): Partial<CertBody> {
  const uint = (k: number): number | undefined => {
    const x = bm.get(k);
    if (x === undefined) return undefined;
    if (typeof x === "number" && x >= 0) return x;
    problems.push(`certificate key ${k} must be a uint`);
    return undefined;
  };
  const body: Partial<CertBody> = {};
  const fv = uint(CertKey.FORMAT_VERSION);
  if (fv !== undefined) body.formatVersion = fv;
  const pk = bm.get(CertKey.PUBLIC_KEY);
  if (pk instanceof Uint8Array && (pk.length === Limits.PUBLIC_KEY_LEN || pk.length === Limits.HSS_PUBLIC_KEY_LEN)) body.publicKey = pk;
  else problems.push("certificate subject key missing");
  const nb = uint(CertKey.NOT_BEFORE);
  if (nb !== undefined) body.notBefore = nb;
  const na = uint(CertKey.NOT_AFTER);
  if (na !== undefined) body.notAfter = na;
  const epoch = uint(CertKey.EPOCH);
  if (epoch !== undefined) body.epoch = epoch;
  else if (!bm.has(CertKey.EPOCH)) problems.push("certificate epoch missing");
  const vendor = bm.get(CertKey.VENDOR_ID);
  if (vendor instanceof Uint8Array && vendor.length === Limits.UUID_LEN) body.vendorId = vendor;
  else if (vendor !== undefined) problems.push("certificate vendor-id must be 16 bytes");
  const classes = bm.get(CertKey.CLASS_IDS);
  if (Array.isArray(classes)) {
    body.classIds = classes.filter((c): c is Uint8Array => c instanceof Uint8Array && c.length === Limits.UUID_LEN);
    if (body.classIds.length !== classes.length) problems.push("certificate class-ids must be 16-byte strings");
  } else if (classes !== undefined) problems.push("certificate class-ids must be an array");
  return body;
}

/** Reads a decoded certificate item; embedded items are decoded with `opts` (strict by default). */
export function readCertificate(item: Cbor, opts: DecodeOptions = {}): CertificateReading {
  const r: CertificateReading = { body: {}, problems: [] };
  if (!(item instanceof CborTag) || item.tag !== CoseTag.SIGN1 || !Array.isArray(item.value) || item.value.length !== 4) {
    r.problems.push("certificate: not a tagged COSE_Sign1");
    return r;
  }
  const [prot, unprot, payload, sig] = item.value;
  // 64 bytes for Ed25519; an HSS/LMS signature is longer (its exact length is the verifier's matter)
  const sigOk = sig instanceof Uint8Array && (sig.length === Limits.SIGNATURE_LEN || (sig.length > Limits.SIGNATURE_LEN && sig.length <= Limits.MAX_HSS_SIGNATURE));
  if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(payload instanceof Uint8Array) || !sigOk)
    r.problems.push("certificate COSE_Sign1 has wrong field types");
  if (sigOk) r.signature = sig as Uint8Array;
  if (prot instanceof Uint8Array) {
    r.protected = prot;
    const ph = embeddedMap(prot, "certificate protected header", opts, r.problems);
    if (ph) {
      const h = readProtectedHeader(ph);
      if (h.alg !== undefined) r.alg = h.alg;
      if (h.kid !== undefined && h.kid.length === Limits.KEY_ID_LEN) r.issuerKeyId = h.kid;
      if (r.alg === undefined || r.issuerKeyId === undefined) r.problems.push("certificate protected header lacks alg or kid");
    }
  }
  if (payload instanceof Uint8Array) {
    r.payload = payload;
    const bm = embeddedMap(payload, "certificate body", opts, r.problems);
    if (bm) r.body = certBodyFromCbor(bm, r.problems);
  }
  return r;
}

/** A well-formed certificate, every field present (signature not verified). */
export interface ParsedCertificate {
  body: CertBody;
  alg: number;
  issuerKeyId: Uint8Array;
  protected: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
  /** The bytes the issuer signed (verify with the root key). */
  toBeSigned: Uint8Array;
}

/** Host-side strict parse (structure only; does not verify the signature). Throws on bad input. */
export function parseCertificate(bytes: Uint8Array): ParsedCertificate {
  const r = readCertificate(decodeCanonical(bytes, { allowTags: [CoseTag.SIGN1] }));
  const { alg, issuerKeyId, protected: prot, payload, signature } = r;
  if (r.problems.length > 0 || alg === undefined || !issuerKeyId || !prot || !payload || !signature) throw new Error(r.problems[0] ?? "certificate is incomplete");
  return { body: r.body as CertBody, alg, issuerKeyId, protected: prot, payload, signature, toBeSigned: sigStructure1(prot, payload) };
}
