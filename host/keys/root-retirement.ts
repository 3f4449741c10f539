// Root-slot retirement statements (formats/SPEC.md §11), host side: sign one with a root
// key (the format itself is formats/host-only/root-statement.ts), decode one for display
// with CLI errors, and check one against a device's trust state with the device core's code.
import { encodeProtectedHeader } from "../../formats/host-only/cose.js";
import { keyId } from "../../formats/host-only/keyid.js";
import {
  decodeRootStatement as decodeStatement,
  encodeRootRetirementPayload as encodePayload,
  encodeRootStatement,
  rootStatementToBeSigned,
  type DecodedRootStatement,
  type RootRetirementBody
} from "../../formats/host-only/root-statement.js";
import { ALG_ED25519 } from "../../formats/device-safe/limits.js";
import { RootStatementVerifier, type RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { createNodePrimitives } from "../bundle/node-primitives.js";
import { FwsealError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { Signer } from "./signer.js";

export { rootStatementToBeSigned, type DecodedRootStatement, type RootRetirementBody };

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
  return usage(() => encodeRootStatement(prot, payload, sig));
}

/** Decode for display (no trust decision: use checkRootStatement for that). */
export function decodeRootStatement(bytes: Uint8Array): DecodedRootStatement {
  try {
    return decodeStatement(bytes);
  } catch (e) {
    throw new FwsealError("BUNDLE_REJECTED", `not a root-retirement statement: ${(e as Error).message}`, { exitCode: ExitCode.BUNDLE_MALFORMED });
  }
}

/** The device core's decision on a statement. */
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
