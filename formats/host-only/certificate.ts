// Delegation certificates (formats/SPEC.md §5): a tagged COSE_Sign1 by a root key over a
// cert-body naming the release key, its epoch, validity window and vendor/class scope.
import { Cbor, CborMap, CborTag } from "./cbor-encode.js";
import { encodeCanonical } from "./cbor-encode.js";
import { decodeCanonical } from "./cbor-decode.js";
import { CertKey, CoseTag, HeaderLabel } from "../device-safe/labels.js";
import { ALG_ED25519, Limits } from "../device-safe/limits.js";
import { EnvelopeSigner, encodeProtectedHeader, encodeSign1, sigStructure1 } from "./cose.js";
import { defaultSha256, keyId, Sha256Fn } from "./keyid.js";

export interface CertBody {
  /** Default 1. */
  formatVersion?: number;
  /** The release key's Ed25519 public key (32 bytes). */
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

export function checkCertBody(b: CertBody): void {
  if (b.publicKey.length !== 32) throw new Error("certificate subject must be a 32-byte Ed25519 key");
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
  protected: Uint8Array;
  payload: Uint8Array;
  toBeSigned: Uint8Array;
}

export function buildUnsignedCertificate(
  rootPublicKey: Uint8Array,
  body: CertBody,
  opts: { alg?: number; sha256?: Sha256Fn; check?: boolean } = {}
): UnsignedCertificate {
  const prot = encodeProtectedHeader({ alg: opts.alg ?? ALG_ED25519, kid: keyId(rootPublicKey, opts.sha256 ?? defaultSha256) });
  const payload = encodeCertBody(body, opts.check ?? true);
  return { protected: prot, payload, toBeSigned: sigStructure1(prot, payload) };
}

export function attachCertificateSignature(u: UnsignedCertificate, signature: Uint8Array): Uint8Array {
  if (signature.length !== 64) throw new Error("an Ed25519 signature is 64 bytes");
  return encodeSign1(u.protected, new Map(), u.payload, signature);
}

/** Signs `body` with the root key and returns the tagged COSE_Sign1 certificate bytes. */
export async function buildCertificate(rootSigner: EnvelopeSigner, body: CertBody, opts: { alg?: number; sha256?: Sha256Fn } = {}): Promise<Uint8Array> {
  const u = buildUnsignedCertificate(rootSigner.publicKey, body, opts);
  return attachCertificateSignature(u, await rootSigner.sign(u.toBeSigned));
}

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

/** Host-side parse (structure only; does not verify the signature). Throws on bad input. */
export function parseCertificate(bytes: Uint8Array): ParsedCertificate {
  const v = decodeCanonical(bytes, { allowTags: [CoseTag.SIGN1] });
  if (!(v instanceof CborTag) || v.tag !== CoseTag.SIGN1 || !Array.isArray(v.value) || v.value.length !== 4)
    throw new Error("certificate is not a tagged COSE_Sign1");
  const [prot, unprot, payload, sig] = v.value;
  if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(payload instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64)
    throw new Error("certificate COSE_Sign1 has wrong field types");
  const ph = decodeCanonical(prot);
  if (!(ph instanceof Map)) throw new Error("certificate protected header is not a map");
  const alg = ph.get(HeaderLabel.ALG);
  const kid = ph.get(HeaderLabel.KID);
  if (typeof alg !== "number" || !(kid instanceof Uint8Array) || kid.length !== Limits.KEY_ID_LEN)
    throw new Error("certificate protected header lacks alg or kid");
  const bm = decodeCanonical(payload);
  if (!(bm instanceof Map)) throw new Error("certificate body is not a map");
  const num = (k: number): number | undefined => {
    const x = bm.get(k);
    if (x === undefined) return undefined;
    if (typeof x !== "number" || x < 0) throw new Error(`certificate key ${k} must be a uint`);
    return x;
  };
  const pk = bm.get(CertKey.PUBLIC_KEY);
  if (!(pk instanceof Uint8Array) || pk.length !== 32) throw new Error("certificate subject key missing");
  const epoch = num(CertKey.EPOCH);
  if (epoch === undefined) throw new Error("certificate epoch missing");
  const vendor = bm.get(CertKey.VENDOR_ID);
  const classes = bm.get(CertKey.CLASS_IDS);
  const body: CertBody = {
    formatVersion: num(CertKey.FORMAT_VERSION),
    publicKey: pk,
    notBefore: num(CertKey.NOT_BEFORE),
    notAfter: num(CertKey.NOT_AFTER),
    epoch,
    vendorId: vendor instanceof Uint8Array ? vendor : undefined,
    classIds: Array.isArray(classes) ? classes.filter((c): c is Uint8Array => c instanceof Uint8Array) : undefined,
  };
  return { body, alg, issuerKeyId: kid, protected: prot, payload, signature: sig, toBeSigned: sigStructure1(prot, payload) };
}
