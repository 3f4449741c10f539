// COSE envelope encoding for fwseal (formats/SPEC.md §3): signer protected headers,
// RFC 9052 §4.4 Sig_structure (the exact bytes a key signs), COSE_Sign1 / COSE_Sign
// assembly, and a two-phase API for offline signing (prepare -> sign elsewhere -> attach).
import { Cbor, CborMap, CborRaw, CborTag, encodeCanonical } from "./cbor-encode.js";
import { CoseTag, HeaderLabel } from "../device-safe/labels.js";
import { ALG_ED25519, Limits } from "../device-safe/limits.js";
import { checkSignatureLength, coseAlgForKey, defaultSha256, keyId, Sha256Fn } from "./keyid.js";

/** Structurally identical to host/keys/signer.ts `Signer` (formats/ does not import host/). */
export interface EnvelopeSigner {
  readonly publicKey: Uint8Array;
  readonly certificate?: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** What the envelope needs to know about a signer before signing. */
export interface SignerInfo {
  publicKey: Uint8Array;
  /** Delegation certificate bytes (tagged COSE_Sign1), absent for a root-signed signer. */
  certificate?: Uint8Array;
}

/** A signer-protected header before encoding. */
export interface ProtectedHeader {
  alg?: number; // default ALG_ED25519 (-19)
  kid: Uint8Array; // 8 bytes
  crit?: number[];
  /** Extra labels (tests, future use). */
  extra?: Map<number, Cbor>;
}

const EMPTY = new Uint8Array(0);

/** Encodes a signer-protected header map {1: alg, ?2: crit, 4: kid}. */
export function encodeProtectedHeader(h: ProtectedHeader): Uint8Array {
  const m: CborMap = new Map<number, Cbor>();
  m.set(HeaderLabel.ALG, h.alg ?? ALG_ED25519);
  if (h.crit) m.set(HeaderLabel.CRIT, h.crit);
  m.set(HeaderLabel.KID, h.kid);
  if (h.extra) for (const [k, v] of h.extra) m.set(k, v);
  return encodeCanonical(m);
}

/** The fields of a decoded protected header map that have the right type; others are absent. */
export function readProtectedHeader(m: CborMap): { alg?: number; kid?: Uint8Array; crit?: number[] } {
  const alg = m.get(HeaderLabel.ALG);
  const kid = m.get(HeaderLabel.KID);
  const crit = m.get(HeaderLabel.CRIT);
  return {
    ...(typeof alg === "number" ? { alg } : {}),
    ...(kid instanceof Uint8Array ? { kid } : {}),
    ...(Array.isArray(crit) ? { crit: crit.filter((x): x is number => typeof x === "number") } : {})
  };
}

/** RFC 9052 Sig_structure for COSE_Sign1: ["Signature1", protected, external_aad, payload]. */
export function sigStructure1(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  return encodeCanonical(["Signature1", protectedBytes, externalAad, payload]);
}

/** RFC 9052 Sig_structure for one COSE_Sign signer: ["Signature", body_protected, sign_protected, external_aad, payload]. */
export function sigStructureSign(
  bodyProtected: Uint8Array,
  signProtected: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY
): Uint8Array {
  return encodeCanonical(["Signature", bodyProtected, signProtected, externalAad, payload]);
}

/** A signer's unprotected header: its delegation certificate (embedded as is), if any. */
export function unprotectedFor(certificate: Uint8Array | undefined): CborMap {
  const m: CborMap = new Map<number, Cbor>();
  if (certificate) m.set(HeaderLabel.FWSEAL_CERT, new CborRaw(certificate));
  return m;
}

/** Tagged COSE_Sign1 bytes. `unprotected` may hold raw certificate bytes as CborRaw. */
export function encodeSign1(protectedBytes: Uint8Array, unprotected: CborMap, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeCanonical(new CborTag(CoseTag.SIGN1, [protectedBytes, unprotected, payload, signature]));
}

/** One COSE_Signature of a COSE_Sign envelope. */
export interface CoseSignatureParts {
  protected: Uint8Array;
  unprotected: CborMap;
  signature: Uint8Array;
}

/** Tagged COSE_Sign bytes. fwseal bodies use an empty protected bstr and an empty unprotected map. */
export function encodeSign(bodyProtected: Uint8Array, bodyUnprotected: CborMap, payload: Uint8Array, signatures: CoseSignatureParts[]): Uint8Array {
  return encodeCanonical(
    new CborTag(CoseTag.SIGN, [bodyProtected, bodyUnprotected, payload, signatures.map((s) => [s.protected, s.unprotected, s.signature])])
  );
}

/** How an envelope is built. */
export interface EnvelopeOptions {
  /** Force COSE_Sign even with a single signer. Default: Sign1 for one signer, Sign for several. */
  forceSign?: boolean;
  /** alg written in protected headers (default: the key's, -19 Ed25519 or -46 HSS-LMS; -8 accepted by verifiers). */
  alg?: number;
  /** Extra crit labels (tests only; a v1 verifier understands 1, 2, 4, -65537). */
  crit?: number[];
  sha256?: Sha256Fn;
}

/** An envelope waiting for signatures: `signers[i].toBeSigned` is exactly what key i signs. */
export interface UnsignedEnvelope {
  kind: "sign1" | "sign";
  payload: Uint8Array; // manifest bytes
  signers: {
    publicKey: Uint8Array;
    keyId: Uint8Array;
    certificate?: Uint8Array;
    protected: Uint8Array;
    toBeSigned: Uint8Array;
  }[];
}

/** Phase 1 of signing: protected headers and the Sig_structure for each signer. */
export function buildUnsignedEnvelope(manifestBytes: Uint8Array, signers: SignerInfo[], opts: EnvelopeOptions = {}): UnsignedEnvelope {
  if (signers.length < 1) throw new Error("at least one signer is required");
  if (signers.length > Limits.MAX_SIGNERS) throw new Error(`at most ${Limits.MAX_SIGNERS} signers`);
  const kind = signers.length > 1 || opts.forceSign ? "sign" : "sign1";
  const sha = opts.sha256 ?? defaultSha256;
  return {
    kind,
    payload: manifestBytes,
    signers: signers.map((s) => {
      const kid = keyId(s.publicKey, sha);
      const prot = encodeProtectedHeader({ alg: opts.alg ?? coseAlgForKey(s.publicKey), kid, crit: opts.crit });
      const tbs = kind === "sign1" ? sigStructure1(prot, manifestBytes) : sigStructureSign(EMPTY, prot, manifestBytes);
      return { publicKey: s.publicKey, keyId: kid, certificate: s.certificate, protected: prot, toBeSigned: tbs };
    }),
  };
}

/** Phase 2: the envelope bytes, given one signature per signer (same order; 64 bytes for Ed25519, an HSS/LMS signature for an HSS/LMS key). */
export function attachSignatures(unsigned: UnsignedEnvelope, signatures: Uint8Array[]): Uint8Array {
  if (signatures.length !== unsigned.signers.length) throw new Error("one signature per signer is required");
  signatures.forEach((s, i) => checkSignatureLength(unsigned.signers[i].publicKey, s));
  let env: Uint8Array;
  if (unsigned.kind === "sign1") {
    const s = unsigned.signers[0];
    env = encodeSign1(s.protected, unprotectedFor(s.certificate), unsigned.payload, signatures[0]);
  } else {
    env = encodeSign(
      EMPTY,
      new Map(),
      unsigned.payload,
      unsigned.signers.map((s, i) => ({ protected: s.protected, unprotected: unprotectedFor(s.certificate), signature: signatures[i] }))
    );
  }
  if (env.length > Limits.MAX_ENVELOPE) throw new Error(`envelope is ${env.length} bytes, more than ${Limits.MAX_ENVELOPE}`);
  return env;
}

/** Signs the manifest with every signer (async, in order) and returns the envelope bytes. */
export async function signEnvelope(manifestBytes: Uint8Array, signers: EnvelopeSigner[], opts: EnvelopeOptions = {}): Promise<Uint8Array> {
  const u = buildUnsignedEnvelope(manifestBytes, signers, opts);
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < signers.length; i++) sigs.push(await signers[i].sign(u.signers[i].toBeSigned));
  return attachSignatures(u, sigs);
}
