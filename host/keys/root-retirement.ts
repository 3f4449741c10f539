// Root-slot retirement statements (formats/SPEC.md §11), host side: create, decode, and
// check one against a device's trust state with the device core's own code.
import { CborMap, CborTag, encodeCanonical, type Cbor } from "../../formats/host-only/cbor-encode.js";
import { encodeProtectedHeader } from "../../formats/host-only/cose.js";
import { keyId, toHex } from "../../formats/host-only/keyid.js";
import { CoseTag, RootStatementKey } from "../../formats/device-safe/labels.js";
import { ALG_ED25519, Limits, MAX_ROOT_NOTE_LEN, MAX_ROOT_STATEMENT, ROOT_RETIRE_AAD } from "../../formats/device-safe/limits.js";
import { decodeCanonical } from "../../formats/host-only/cbor-decode.js";
import { formatUuid } from "../../formats/host-only/uuid.js";
import { RootStatementVerifier, type RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { createNodePrimitives } from "../bundle/node-primitives.js";
import { FwsealError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { Signer } from "./signer.js";

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

export function encodeRootRetirementPayload(b: RootRetirementBody): Uint8Array {
  if (!Number.isInteger(b.slot) || b.slot < 0 || b.slot >= Limits.MAX_ROOT_SLOTS) {
    throw new FwsealError("USAGE", `slot must be 0..${Limits.MAX_ROOT_SLOTS - 1}`);
  }
  if (!Number.isSafeInteger(b.counter) || b.counter < 1) throw new FwsealError("USAGE", "counter must be a positive integer (at most 2^53-1)");
  if (b.vendorId.length !== 16) throw new FwsealError("USAGE", "vendor-id must be 16 bytes");
  if (b.classId !== undefined && b.classId.length !== 16) throw new FwsealError("USAGE", "class-id must be 16 bytes");
  if (b.retiredKey.length !== 32) throw new FwsealError("USAGE", "the retired root key must be a 32-byte Ed25519 key");
  if (b.note !== undefined && Buffer.byteLength(b.note, "utf8") > MAX_ROOT_NOTE_LEN) throw new FwsealError("USAGE", `note is longer than ${MAX_ROOT_NOTE_LEN} bytes`);
  const m: CborMap = new Map<number, Cbor>();
  m.set(RootStatementKey.FORMAT_VERSION, 1);
  m.set(RootStatementKey.SLOT, b.slot);
  m.set(RootStatementKey.COUNTER, b.counter);
  m.set(RootStatementKey.VENDOR_ID, b.vendorId);
  if (b.classId !== undefined) m.set(RootStatementKey.CLASS_ID, b.classId);
  m.set(RootStatementKey.RETIRED_KEY_ID, keyId(b.retiredKey));
  if (b.note !== undefined) m.set(RootStatementKey.NOTE, b.note);
  return encodeCanonical(m);
}

/**
 * Create a statement retiring `body.slot`, signed by `signer` (a root key of another slot,
 * local or on a token). The signer's key ID goes into the protected header.
 */
export async function createRootRetirement(signer: Signer, body: RootRetirementBody): Promise<Uint8Array> {
  if (Buffer.from(signer.publicKey).equals(Buffer.from(body.retiredKey))) {
    throw new FwsealError("USAGE", "a root key cannot retire itself: sign with the key of another live root slot");
  }
  const prot = encodeProtectedHeader({ alg: ALG_ED25519, kid: keyId(signer.publicKey) });
  const payload = encodeRootRetirementPayload(body);
  const sig = await signer.sign(rootStatementToBeSigned(prot, payload));
  const stmt = encodeCanonical(new CborTag(CoseTag.SIGN1, [prot, new Map(), payload, sig]));
  if (stmt.length > MAX_ROOT_STATEMENT) throw new FwsealError("USAGE", `statement is ${stmt.length} bytes, more than ${MAX_ROOT_STATEMENT}`);
  return stmt;
}

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

/** Decode for display (no trust decision: use checkRootStatement for that). */
export function decodeRootStatement(bytes: Uint8Array): DecodedRootStatement {
  const bad = (why: string): FwsealError => new FwsealError("BUNDLE_REJECTED", `not a root-retirement statement: ${why}`, { exitCode: ExitCode.BUNDLE_MALFORMED });
  let top: Cbor;
  try {
    top = decodeCanonical(bytes, { allowTags: [CoseTag.SIGN1] });
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!(top instanceof CborTag) || top.tag !== CoseTag.SIGN1 || !Array.isArray(top.value) || top.value.length !== 4) throw bad("not a tagged COSE_Sign1");
  const [prot, , payload] = top.value as Cbor[];
  if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array)) throw bad("bad COSE structure");
  const ph = decodeCanonical(prot);
  const body = decodeCanonical(payload);
  if (!(ph instanceof Map) || !(body instanceof Map)) throw bad("header or payload is not a map");
  const kid = ph.get(4);
  const get = (k: number): Cbor | undefined => body.get(k);
  const num = (k: number): number => {
    const v = get(k);
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    throw bad(`payload key ${k} missing or not an integer`);
  };
  const bytesOf = (k: number, n: number): Uint8Array => {
    const v = get(k);
    if (!(v instanceof Uint8Array) || v.length !== n) throw bad(`payload key ${k} missing or not ${n} bytes`);
    return v;
  };
  if (!(kid instanceof Uint8Array)) throw bad("no kid");
  const cls = get(RootStatementKey.CLASS_ID);
  const note = get(RootStatementKey.NOTE);
  const alg = ph.get(1);
  return {
    signerKeyId: toHex(kid),
    alg: typeof alg === "number" ? alg : NaN,
    version: num(RootStatementKey.FORMAT_VERSION),
    slot: num(RootStatementKey.SLOT),
    counter: num(RootStatementKey.COUNTER),
    vendorId: formatUuid(bytesOf(RootStatementKey.VENDOR_ID, 16)),
    ...(cls instanceof Uint8Array && cls.length === 16 ? { classId: formatUuid(cls) } : {}),
    retiredKeyId: toHex(bytesOf(RootStatementKey.RETIRED_KEY_ID, 8)),
    ...(typeof note === "string" ? { note } : {})
  };
}

export interface RootStatementOutcome {
  reason: number;
  /** On OK: what the device persists. */
  slot: number;
  counter: number;
  retiredMask: number;
  signerSlot: number;
}

/** Check a statement exactly as a device would (device core code, Node primitives). */
export function checkRootStatement(bytes: Uint8Array, state: RootTrustState, storedCounter: number): RootStatementOutcome {
  const v = new RootStatementVerifier(createNodePrimitives());
  const reason = v.check(bytes, bytes.length, state, storedCounter);
  return { reason, slot: v.slot, counter: v.counter, retiredMask: v.retiredMask, signerSlot: v.signerSlot };
}
