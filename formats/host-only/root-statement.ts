// Root-slot retirement statements (formats/SPEC.md §11), host side: the payload with its
// checks, the bytes a root key signs, the assembled statement, and decoding for display.
// Whether a device accepts a statement is decided by the device core's RootStatementVerifier.
import { CborMap, CborTag, encodeCanonical, type Cbor } from "./cbor-encode.js";
import { decodeCanonical } from "./cbor-decode.js";
import { readProtectedHeader } from "./cose.js";
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

/** The exact bytes a root key signs for a statement: ["Signature1", protected, AAD, payload]. */
export function rootStatementToBeSigned(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCanonical(["Signature1", protectedBytes, AAD, payload]);
}

/** Throws (plain Error, precise message) if `b` cannot make a valid statement. */
export function checkRootRetirementBody(b: RootRetirementBody): void {
  if (!Number.isInteger(b.slot) || b.slot < 0 || b.slot >= Limits.MAX_ROOT_SLOTS) throw new Error(`slot must be 0..${Limits.MAX_ROOT_SLOTS - 1}`);
  if (!Number.isSafeInteger(b.counter) || b.counter < 1) throw new Error("counter must be a positive integer (at most 2^53-1)");
  if (b.vendorId.length !== Limits.UUID_LEN) throw new Error("vendor-id must be 16 bytes");
  if (b.classId !== undefined && b.classId.length !== Limits.UUID_LEN) throw new Error("class-id must be 16 bytes");
  if (b.retiredKey.length !== 32) throw new Error("the retired root key must be a 32-byte Ed25519 key");
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

/** The tagged COSE_Sign1 statement; throws if it exceeds MAX_ROOT_STATEMENT. */
export function encodeRootStatement(protectedBytes: Uint8Array, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  const stmt = encodeCanonical(new CborTag(CoseTag.SIGN1, [protectedBytes, new Map(), payload, signature]));
  if (stmt.length > MAX_ROOT_STATEMENT) throw new Error(`statement is ${stmt.length} bytes, more than ${MAX_ROOT_STATEMENT}`);
  return stmt;
}

/** A statement's content for display (key IDs in hex, UUIDs formatted). */
export interface DecodedRootStatement {
  signerKeyId: string;
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
  const top = decodeCanonical(bytes, { allowTags: [CoseTag.SIGN1] });
  if (!(top instanceof CborTag) || top.tag !== CoseTag.SIGN1 || !Array.isArray(top.value) || top.value.length !== 4) throw new Error("not a tagged COSE_Sign1");
  const [prot, , payload] = top.value;
  if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array)) throw new Error("bad COSE structure");
  const ph = decodeCanonical(prot);
  const body = decodeCanonical(payload);
  if (!(ph instanceof Map) || !(body instanceof Map)) throw new Error("header or payload is not a map");
  const { alg, kid } = readProtectedHeader(ph);
  if (!kid) throw new Error("no kid");
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
  return {
    signerKeyId: toHex(kid),
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
