// The draft header (formats/SPEC.md §12): a bundle waiting for its signatures.
//
//   draft file = draft-header || chunk[0] || ... || chunk[n-1]     (chunks exactly as in the bundle)
//   draft-header = ["fwseal/draft/v1", payload: bstr .cbor manifest,
//                   [* [protected, unprotected, signature, public-key]], policy: {? 1: k, ? 2: [* kid]}]
//
// Each signer's to-be-signed bytes are the COSE_Sign Sig_structure
//   ["Signature", h'', {1: -19, 4: kid}, h'', payload]
// fixed by the manifest and the signer's own public key only: signatures can be collected
// in any order, on different machines, and none invalidates another.
import { Cbor, CborMap, encodeCanonical } from "./cbor-encode.js";
import { CborDecodeError, decodeCanonical } from "./cbor-decode.js";
import { encodeProtectedHeader, sigStructureSign, unprotectedFor } from "./cose.js";
import { checkSignatureLength, coseAlgForKey, keyId, toHex } from "./keyid.js";
import { keyAlgorithmBit } from "../device-safe/root-keys.js";
import { decodeCompleteManifest, type Manifest } from "./manifest.js";
import { CborItemScanner } from "../device-safe/cbor-reader.js";
import { CoseTag, HeaderLabel } from "../device-safe/labels.js";
import { Limits } from "../device-safe/limits.js";
import { reasonName } from "../device-safe/reasons.js";

/** The first element of every draft header. */
export const DRAFT_MAGIC = "fwseal/draft/v1";
/** Largest draft header read (the envelope bound plus room for the public keys). */
export const MAX_DRAFT_HEADER = 2 * Limits.MAX_ENVELOPE;
const EMPTY = new Uint8Array(0);

/** One collected signature, with the key that made it. */
export interface DraftSignature {
  protected: Uint8Array;
  certificate?: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
  keyId: string;
}

/** Who may sign a draft and how many signatures finalize requires. */
export interface DraftPolicy {
  /** k: signatures finalize will require by default. */
  threshold?: number;
  /** Key IDs (hex) allowed to sign this draft; absent = anyone (the verifier decides trust). */
  signers?: string[];
}

/** A decoded draft header. */
export interface DraftHeader {
  payload: Uint8Array;
  manifest: Manifest;
  signatures: DraftSignature[];
  policy: DraftPolicy;
  /** Bytes of the header; the chunk stream follows. */
  length: number;
}

/** The signer-protected header a draft signature is made under: {1: -19 (Ed25519) or -46 (HSS-LMS), 4: kid}. */
export function draftProtectedHeader(publicKey: Uint8Array): Uint8Array {
  return encodeProtectedHeader({ alg: coseAlgForKey(publicKey), kid: keyId(publicKey) });
}

/** The exact bytes `publicKey`'s holder signs for this draft (COSE_Sign Sig_structure). */
export function draftToBeSigned(payload: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== Limits.PUBLIC_KEY_LEN && publicKey.length !== Limits.HSS_PUBLIC_KEY_LEN) throw new Error("a public key is 32 bytes (Ed25519) or 60 bytes (HSS/LMS)");
  return sigStructureSign(EMPTY, draftProtectedHeader(publicKey), payload);
}

/** Deterministic draft header bytes. */
export function encodeDraftHeader(payload: Uint8Array, sigs: DraftSignature[], policy: DraftPolicy): Uint8Array {
  const pm: CborMap = new Map<number, Cbor>();
  if (policy.threshold !== undefined) pm.set(1, policy.threshold);
  if (policy.signers !== undefined) pm.set(2, policy.signers.map((h) => new Uint8Array(Buffer.from(h, "hex"))));
  const entries: Cbor[] = sigs.map((s) => [s.protected, unprotectedFor(s.certificate), s.signature, s.publicKey]);
  return encodeCanonical([DRAFT_MAGIC, payload, entries, pm]);
}

/** Does `head` start like a draft header (an array whose first item is the magic)? */
export function startsWithDraftMagic(head: Uint8Array): boolean {
  const prefix = encodeCanonical([DRAFT_MAGIC]).subarray(1); // the magic tstr
  if (head.length < 1 + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (head[1 + i] !== prefix[i]) return false;
  return true;
}

/** Strictly decodes the draft header at the start of `head`; throws a plain Error saying what is wrong. */
export function decodeDraftHeader(head: Uint8Array): DraftHeader {
  const sc = new CborItemScanner();
  sc.reset(MAX_DRAFT_HEADER);
  const n = sc.scan(head, head.length);
  if (n <= 0) throw new Error(n === 0 ? "header truncated" : `header: ${reasonName(-n)}`);
  const top = decodeCanonical(head.subarray(0, n), { allowTags: [CoseTag.SIGN1] });
  if (!Array.isArray(top) || top.length !== 4 || top[0] !== DRAFT_MAGIC) throw new Error("header is not [magic, payload, signatures, policy]");
  const [, payload, sigList, pol] = top;
  if (!(payload instanceof Uint8Array) || !Array.isArray(sigList) || !(pol instanceof Map)) throw new Error("header field types");
  let manifest: Manifest;
  try {
    manifest = decodeCompleteManifest(payload);
  } catch (e) {
    throw new Error(e instanceof CborDecodeError ? `manifest: ${e.message}` : (e as Error).message);
  }
  const signatures: DraftSignature[] = [];
  for (const e of sigList) {
    if (!Array.isArray(e) || e.length !== 4) throw new Error("signature entry");
    const [prot, unprot, sig, pk] = e;
    if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(sig instanceof Uint8Array) || !(pk instanceof Uint8Array) || keyAlgorithmBit(pk.length) === 0) {
      throw new Error("signature entry field types");
    }
    try {
      checkSignatureLength(pk, sig);
    } catch {
      throw new Error("signature entry field types");
    }
    const cert = unprot.get(HeaderLabel.FWSEAL_CERT);
    const ds: DraftSignature = { protected: prot, signature: sig, publicKey: pk, keyId: toHex(keyId(pk)) };
    if (cert !== undefined) ds.certificate = encodeCanonical(cert);
    signatures.push(ds);
  }
  const policy: DraftPolicy = {};
  const k = pol.get(1);
  if (typeof k === "number") policy.threshold = k;
  const ks = pol.get(2);
  if (Array.isArray(ks)) policy.signers = ks.map((x) => (x instanceof Uint8Array ? toHex(x) : "?"));
  return { payload, manifest, signatures, policy, length: n };
}
