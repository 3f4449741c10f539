// Root-slot retirement statements (formats/SPEC.md §11), host side: the payload with its
// checks, the bytes a root key signs, the assembled statement (COSE_Sign with one signature
// per root, or the older single-signature COSE_Sign1), and decoding for display.
// Whether a device accepts a statement is decided by the device core's RootStatementVerifier.
import { CborMap, CborTag, encodeCanonical, type Cbor } from "./cbor-encode.js";
import { decodeCanonical } from "./cbor-decode.js";
import { encodeSign, readProtectedHeader, sigStructure1, sigStructureSign } from "./cose.js";
import { keyId, toHex } from "./keyid.js";
import { formatUuid } from "./uuid.js";
import { CoseTag, RootStatementKey } from "../device-safe/labels.js";
import { Limits, MAX_ROOT_NOTE_LEN, MAX_ROOT_STATEMENT, ROOT_RETIRE_AAD } from "../device-safe/limits.js";

/** What a statement says, as its author gives it. */
export interface RootRetirementBody {
  /** Slot to retire, 0..MAX_ROOT_SLOTS-1. */
  slot: number;
  /** Anti-replay counter; must exceed every counter the devices applied before. */
  counter: number;
  vendorId: Uint8Array;
  /** Absent: the statement applies to every class of the vendor. */
  classId?: Uint8Array;
  /** Public key of the root being retired (its key ID is bound into the statement). */
  retiredKey: Uint8Array;
  note?: string;
}

const AAD = new Uint8Array(ROOT_RETIRE_AAD);

const EMPTY = new Uint8Array(0);

/** The exact bytes a root key signs for a COSE_Sign1 statement: ["Signature1", protected, AAD, payload]. */
export function rootStatementToBeSigned(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return sigStructure1(protectedBytes, payload, AAD);
}

/**
 * The exact bytes one root signs for a COSE_Sign statement: ["Signature", h'', protected,
 * AAD, payload]. They depend only on the payload and that root's own protected header, so
 * roots sign independently, in any order, on different machines.
 */
export function rootStatementSignatureInput(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return sigStructureSign(EMPTY, protectedBytes, payload, AAD);
}

/** Throws (plain Error, precise message) if `b` cannot make a valid statement. */
export function checkRootRetirementBody(b: RootRetirementBody): void {
  if (!Number.isInteger(b.slot) || b.slot < 0 || b.slot >= Limits.MAX_ROOT_SLOTS) throw new Error(`slot must be 0..${Limits.MAX_ROOT_SLOTS - 1}`);
  if (!Number.isSafeInteger(b.counter) || b.counter < 1) throw new Error("counter must be a positive integer (at most 2^53-1)");
  if (b.vendorId.length !== Limits.UUID_LEN) throw new Error("vendor-id must be 16 bytes");
  if (b.classId !== undefined && b.classId.length !== Limits.UUID_LEN) throw new Error("class-id must be 16 bytes");
  if (b.retiredKey.length !== Limits.PUBLIC_KEY_LEN && b.retiredKey.length !== Limits.HSS_PUBLIC_KEY_LEN) {
    throw new Error("the retired root key must be a 32-byte Ed25519 key or a 60-byte HSS/LMS key");
  }
  if (b.note !== undefined && new TextEncoder().encode(b.note).length > MAX_ROOT_NOTE_LEN) throw new Error(`note is longer than ${MAX_ROOT_NOTE_LEN} bytes`);
}

/** The statement payload (deterministic CBOR map), after checkRootRetirementBody. */
export function encodeRootRetirementPayload(b: RootRetirementBody): Uint8Array {
  checkRootRetirementBody(b);
  const m: CborMap = new Map<number, Cbor>();
  m.set(RootStatementKey.FORMAT_VERSION, Limits.FORMAT_VERSION);
  m.set(RootStatementKey.SLOT, b.slot);
  m.set(RootStatementKey.COUNTER, b.counter);
  m.set(RootStatementKey.VENDOR_ID, b.vendorId);
  if (b.classId !== undefined) m.set(RootStatementKey.CLASS_ID, b.classId);
  m.set(RootStatementKey.RETIRED_KEY_ID, keyId(b.retiredKey));
  if (b.note !== undefined) m.set(RootStatementKey.NOTE, b.note);
  return encodeCanonical(m);
}

function checkSize(stmt: Uint8Array): Uint8Array {
  if (stmt.length > MAX_ROOT_STATEMENT) throw new Error(`statement is ${stmt.length} bytes, more than ${MAX_ROOT_STATEMENT}`);
  return stmt;
}

/** The tagged COSE_Sign1 statement (one signature); throws if it exceeds MAX_ROOT_STATEMENT. */
export function encodeRootStatement(protectedBytes: Uint8Array, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return checkSize(encodeCanonical(new CborTag(CoseTag.SIGN1, [protectedBytes, new Map(), payload, signature])));
}

/** One root's signature of a COSE_Sign statement. */
export interface RootStatementSignature {
  /** Protected header bytes {1: alg, 4: kid}. */
  protected: Uint8Array;
  signature: Uint8Array;
}

/**
 * The tagged COSE_Sign statement: 1..MAX_ROOT_SLOTS signatures, sorted by protected header
 * (so by key ID: the bytes do not depend on signing order), one per key. Throws on a
 * repeated key, too many signatures, or a statement over MAX_ROOT_STATEMENT.
 */
export function encodeRootStatementSign(payload: Uint8Array, signatures: RootStatementSignature[]): Uint8Array {
  if (signatures.length < 1 || signatures.length > Limits.MAX_ROOT_SLOTS) throw new Error(`a statement carries 1 to ${Limits.MAX_ROOT_SLOTS} signatures`);
  const sorted = [...signatures].sort((a, b) => Buffer.compare(a.protected, b.protected));
  for (let i = 1; i < sorted.length; i++) {
    if (Buffer.compare(sorted[i - 1].protected, sorted[i].protected) === 0) throw new Error("the same root key signed twice");
  }
  return checkSize(encodeSign(EMPTY, new Map(), payload, sorted.map((s) => ({ protected: s.protected, unprotected: new Map(), signature: s.signature }))));
}

/** A statement taken apart (no trust decision): payload and signatures as they are. */
export interface RootStatementParts {
  /** COSE_Sign (true) or COSE_Sign1. */
  sign: boolean;
  payload: Uint8Array;
  signatures: (RootStatementSignature & { keyId: Uint8Array })[];
}

/** Strict split of a statement into payload and signatures; throws a plain Error saying what is wrong. */
export function splitRootStatement(bytes: Uint8Array): RootStatementParts {
  const top = decodeCanonical(bytes, { allowTags: [CoseTag.SIGN1, CoseTag.SIGN] });
  if (!(top instanceof CborTag) || !Array.isArray(top.value) || top.value.length !== 4) throw new Error("not a tagged COSE_Sign or COSE_Sign1");
  const [prot, , payload, last] = top.value;
  if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array)) throw new Error("bad COSE structure");
  const entries: [unknown, unknown][] = [];
  if (top.tag === CoseTag.SIGN1) entries.push([prot, last]);
  else {
    if (prot.length !== 0 || !Array.isArray(last) || last.length === 0) throw new Error("bad COSE_Sign structure");
    for (const s of last) {
      if (!Array.isArray(s) || s.length !== 3) throw new Error("bad COSE_Signature");
      entries.push([s[0], s[2]]);
    }
  }
  const signatures = entries.map(([p, sig]) => {
    if (!(p instanceof Uint8Array) || !(sig instanceof Uint8Array)) throw new Error("bad COSE_Signature");
    const ph = decodeCanonical(p);
    if (!(ph instanceof Map)) throw new Error("protected header is not a map");
    const { kid } = readProtectedHeader(ph);
    if (!kid) throw new Error("no kid");
    return { protected: p, signature: sig, keyId: kid };
  });
  return { sign: top.tag === CoseTag.SIGN, payload, signatures };
}

/** A statement's content for display (key IDs in hex, UUIDs formatted). */
export interface DecodedRootStatement {
  /** Key ID of the first signature (the only one of a COSE_Sign1 statement). */
  signerKeyId: string;
  /** Key IDs of every signature, in statement order. */
  signerKeyIds: string[];
  alg: number;
  version: number;
  slot: number;
  counter: number;
  vendorId: string;
  classId?: string;
  retiredKeyId: string;
  note?: string;
}

/** Strict decode for display (no trust decision); throws a plain Error saying what is wrong. */
export function decodeRootStatement(bytes: Uint8Array): DecodedRootStatement {
  const parts = splitRootStatement(bytes);
  const ph = decodeCanonical(parts.signatures[0].protected) as CborMap;
  const body = decodeCanonical(parts.payload);
  if (!(body instanceof Map)) throw new Error("payload is not a map");
  const { alg } = readProtectedHeader(ph);
  const num = (k: number): number => {
    const v = body.get(k);
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    throw new Error(`payload key ${k} missing or not an integer`);
  };
  const bytesOf = (k: number, n: number): Uint8Array => {
    const v = body.get(k);
    if (!(v instanceof Uint8Array) || v.length !== n) throw new Error(`payload key ${k} missing or not ${n} bytes`);
    return v;
  };
  const cls = body.get(RootStatementKey.CLASS_ID);
  const note = body.get(RootStatementKey.NOTE);
  const signerKeyIds = parts.signatures.map((s) => toHex(s.keyId));
  return {
    signerKeyId: signerKeyIds[0],
    signerKeyIds,
    alg: alg ?? NaN,
    version: num(RootStatementKey.FORMAT_VERSION),
    slot: num(RootStatementKey.SLOT),
    counter: num(RootStatementKey.COUNTER),
    vendorId: formatUuid(bytesOf(RootStatementKey.VENDOR_ID, Limits.UUID_LEN)),
    ...(cls instanceof Uint8Array && cls.length === Limits.UUID_LEN ? { classId: formatUuid(cls) } : {}),
    retiredKeyId: toHex(bytesOf(RootStatementKey.RETIRED_KEY_ID, Limits.KEY_ID_LEN)),
    ...(typeof note === "string" ? { note } : {})
  };
}
