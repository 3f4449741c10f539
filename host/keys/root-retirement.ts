// Root-slot retirement statements (formats/SPEC.md §11), host side: sign one with the keys
// of one or more roots, add another root's signature to an existing one (custodians at
// different sites), decode one for display with CLI errors, and check one against a device's
// trust state with the device core's code. The format is formats/host-only/root-statement.ts.
import { encodeProtectedHeader } from "../../formats/host-only/cose.js";
import { coseAlgForKey, keyId } from "../../formats/host-only/keyid.js";
import {
  decodeRootStatement as decodeStatement,
  encodeRootRetirementPayload as encodePayload,
  encodeRootStatementSign,
  rootStatementSignatureInput,
  rootStatementToBeSigned,
  splitRootStatement,
  type DecodedRootStatement,
  type RootRetirementBody,
  type RootStatementSignature
} from "../../formats/host-only/root-statement.js";
import { RootStatementKey } from "../../formats/device-safe/labels.js";
import { decodeCanonical } from "../../formats/host-only/cbor-decode.js";
import { RootStatementVerifier, type RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { createNodePrimitives } from "../bundle/node-primitives.js";
import { FwsealError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { Reason } from "../../formats/device-safe/reasons.js";
import type { Signer } from "./signer.js";

export { rootStatementToBeSigned, rootStatementSignatureInput, type DecodedRootStatement, type RootRetirementBody };

function usage<T>(build: () => T): T {
  try {
    return build();
  } catch (e) {
    throw new FwsealError("USAGE", (e as Error).message);
  }
}

/** The statement payload; a body that cannot make a valid statement is a USAGE error. */
export function encodeRootRetirementPayload(b: RootRetirementBody): Uint8Array {
  return usage(() => encodePayload(b));
}

// One root's signature over a COSE_Sign statement's payload.
async function signPayload(signer: Signer, payload: Uint8Array): Promise<RootStatementSignature> {
  const prot = encodeProtectedHeader({ alg: coseAlgForKey(signer.publicKey), kid: keyId(signer.publicKey) });
  return { protected: prot, signature: await signer.sign(rootStatementSignatureInput(prot, payload)) };
}

function refuseSelf(signer: Signer, retiredKeyId: Uint8Array): void {
  if (Buffer.from(keyId(signer.publicKey)).equals(Buffer.from(retiredKeyId))) {
    throw new FwsealError("USAGE", "a root key cannot retire itself: sign with the keys of the other live root slots");
  }
}

/**
 * Create a statement retiring `body.slot`, signed by `signers` (root keys of OTHER slots,
 * local or on tokens; a device needs a majority of its other live roots, SPEC §11.3). The
 * result is a COSE_Sign even for one signer, so more roots can sign it later
 * (cosignRootRetirement).
 */
export async function createRootRetirement(signers: Signer | Signer[], body: RootRetirementBody): Promise<Uint8Array> {
  const list = Array.isArray(signers) ? signers : [signers];
  if (list.length === 0) throw new FwsealError("USAGE", "a statement needs at least one root key");
  const payload = encodeRootRetirementPayload(body);
  const retiredKeyId = keyId(body.retiredKey);
  for (const s of list) refuseSelf(s, retiredKeyId);
  const sigs: RootStatementSignature[] = [];
  for (const s of list) sigs.push(await signPayload(s, payload));
  return usage(() => encodeRootStatementSign(payload, sigs));
}

/**
 * Add `signer`'s signature to an existing COSE_Sign statement (another custodian, another
 * machine: only the statement file travels). The payload is not changed; the signatures
 * already there are kept as they are (the device checks them all).
 */
export async function cosignRootRetirement(statement: Uint8Array, signer: Signer): Promise<Uint8Array> {
  const parts = usage(() => splitRootStatement(statement));
  if (!parts.sign) {
    throw new FwsealError("USAGE", "this statement is a single-signature COSE_Sign1 and cannot take more signatures: create it again with retire-root");
  }
  const body = decodeCanonical(parts.payload) as Map<number, unknown>;
  const retiredKeyId = body.get(RootStatementKey.RETIRED_KEY_ID);
  if (retiredKeyId instanceof Uint8Array) refuseSelf(signer, retiredKeyId);
  const kid = keyId(signer.publicKey);
  if (parts.signatures.some((s) => Buffer.from(s.keyId).equals(Buffer.from(kid)))) {
    throw new FwsealError("USAGE", `the statement is already signed by key ${Buffer.from(kid).toString("hex")}`);
  }
  const sig = await signPayload(signer, parts.payload);
  return usage(() => encodeRootStatementSign(parts.payload, [...parts.signatures, sig]));
}

/** Decode for display (no trust decision: use checkRootStatement for that). */
export function decodeRootStatement(bytes: Uint8Array): DecodedRootStatement {
  try {
    return decodeStatement(bytes);
  } catch (e) {
    // A rejection names its reason (the fwseal/1 error of every BUNDLE_REJECTED has one); -1: no chunk.
    throw new FwsealError("BUNDLE_REJECTED", `not a root-retirement statement: ${(e as Error).message}`, { exitCode: ExitCode.BUNDLE_MALFORMED, reason: Reason.MALFORMED, chunk: -1 });
  }
}

/** The device core's decision on a statement. */
export interface RootStatementOutcome {
  reason: number;
  /** On OK: what the device persists. */
  slot: number;
  counter: number;
  retiredMask: number;
  /** On OK: the lowest slot whose signature counted, and a bit per counted slot. */
  signerSlot: number;
  signerMask: number;
  /** Signatures of other live roots the statement needed (0 if it failed before step 4). */
  required: number;
}

/**
 * Check a statement exactly as a device would (device core code, Node primitives).
 * retireThreshold: the device's provisioned retirement threshold (0 = majority rule alone).
 */
export function checkRootStatement(bytes: Uint8Array, state: RootTrustState, storedCounter: number, retireThreshold = 0): RootStatementOutcome {
  const v = new RootStatementVerifier(createNodePrimitives());
  const reason = v.check(bytes, bytes.length, state, storedCounter, retireThreshold);
  return { reason, slot: v.slot, counter: v.counter, retiredMask: v.retiredMask, signerSlot: v.signerSlot, signerMask: v.signerMask, required: v.required };
}
