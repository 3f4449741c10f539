// Golden vectors for root-retirement statements (formats/SPEC.md §11), written under
// formats/vectors/statements/ with the device state each is checked against and the verdict
// every conforming device must reach. Deterministic like the bundle vectors: fixed keys,
// fixed counters, deterministic Ed25519 (dev/vectors-gen.ts calls this).
import type { KeyObject } from "node:crypto";
import { Reason, reasonName } from "../formats/device-safe/reasons.js";
import { MAX_ROOT_COUNTER_STEP } from "../formats/device-safe/limits.js";
import { encodeProtectedHeader } from "../formats/host-only/cose.js";
import { keyId } from "../formats/host-only/keyid.js";
import { encodeRootRetirementPayload, encodeRootStatement, rootStatementToBeSigned } from "../formats/host-only/root-statement.js";
import { createRootRetirement } from "../host/keys/root-retirement.js";
import { LocalSigner } from "../host/keys/keys.js";

/** A vector key: its private key object and raw public key. */
export interface StatementVectorKey {
  key: KeyObject;
  pk: Uint8Array;
}

/** The device state a statement vector is checked against. */
export interface StatementVectorPolicy {
  roots: string[]; // hex, slot order
  retiredRoots: number; // bitmask
  vendor: string; // UUID
  class: string; // UUID
  storedCounter: number; // the device's statement counter
  retireThreshold: number; // provisioned retirement threshold, 0 = majority of the other live slots
}

/** One statement vector. On OK, `retiredMask` and `counter` are what the device stores. */
export interface StatementVectorEntry {
  name: string;
  file: string;
  description: string;
  policy: StatementVectorPolicy;
  expected: { valid: boolean; reason: string; reasonCode: number; retiredMask: number; counter: number };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * Statement vectors for a device of three root slots (root1, root2, root3) and one of two
 * (root1, root2), vendor/class as for the bundle vectors. Adds the files to `files`.
 */
export async function generateStatementVectors(
  roots: [StatementVectorKey, StatementVectorKey, StatementVectorKey],
  vendorId: Uint8Array,
  vendor: string,
  deviceClass: string,
  files: Map<string, Uint8Array>
): Promise<StatementVectorEntry[]> {
  const out: StatementVectorEntry[] = [];
  const three = roots.map((r) => hex(r.pk));
  const base: StatementVectorPolicy = { roots: three, retiredRoots: 0, vendor, class: deviceClass, storedCounter: 0, retireThreshold: 0 };
  const signers = roots.map((r) => new LocalSigner(r.key));
  const make = (slot: number, by: number[], counter: number) =>
    createRootRetirement(by.map((i) => signers[i]), { slot, counter, vendorId, retiredKey: roots[slot].pk, note: "golden vector" });
  const add = (name: string, description: string, bytes: Uint8Array, reason: number, policy: Partial<StatementVectorPolicy>, stored: { retiredMask: number; counter: number }) => {
    const file = `statements/${name}.cose`;
    files.set(file, bytes);
    out.push({
      name, file, description, policy: { ...base, ...policy },
      expected: { valid: reason === Reason.OK, reason: reasonName(reason), reasonCode: reason, ...(reason === Reason.OK ? stored : { retiredMask: -1, counter: -1 }) }
    });
  };
  const COUNTER = 1767225600; // the bundle vectors' clock, as the tool's default counter would be

  const valid = await make(0, [1, 2], COUNTER);
  add("stmt-valid-two-roots", "COSE_Sign by root2 and root3 retiring slot 0 (root1) of a three-slot device: a majority (2) of the two other live slots", valid, Reason.OK, {}, { retiredMask: 1, counter: COUNTER });
  add("stmt-one-root-threshold-two", "COSE_Sign by root2 alone retiring slot 0 of a three-slot device, which needs 2 of the other live slots", await make(0, [1], COUNTER), Reason.THRESHOLD_NOT_MET, {}, { retiredMask: 0, counter: 0 });
  add("stmt-leaked-root-max-counter", "root1 alone (the leaked key) retiring slot 1 with counter 2^53-1", await make(1, [0], Number.MAX_SAFE_INTEGER), Reason.THRESHOLD_NOT_MET, {}, { retiredMask: 0, counter: 0 });
  add("stmt-counter-jump", `root2 and root3 retiring slot 0 with a counter ${MAX_ROOT_COUNTER_STEP} + 1 above the stored 1000`,
    await make(0, [1, 2], 1000 + MAX_ROOT_COUNTER_STEP + 1), Reason.TOO_LARGE, { storedCounter: 1000 }, { retiredMask: 0, counter: 0 });
  add("stmt-counter-max", "root2 and root3 retiring slot 0 with counter 2^53-1 (would exhaust the counter)", await make(0, [1, 2], Number.MAX_SAFE_INTEGER), Reason.TOO_LARGE, {}, { retiredMask: 0, counter: 0 });
  add("stmt-replay", "the valid two-root statement again: stored counter equals its counter", valid, Reason.STALE_STATEMENT, { storedCounter: COUNTER, retiredRoots: 1 }, { retiredMask: 0, counter: 0 });
  add("stmt-slot-already-retired", "the valid two-root statement, slot 0 already retired (burned in), counter fresh", valid, Reason.STALE_STATEMENT, { retiredRoots: 1 }, { retiredMask: 0, counter: 0 });
  add("stmt-provisioned-threshold", "the valid two-root statement on a device provisioned with retireThreshold 3 (unreachable: only two other slots)", valid, Reason.THRESHOLD_NOT_MET, { retireThreshold: 3 }, { retiredMask: 0, counter: 0 });
  add("stmt-after-retirement", "root3 alone retiring slot 1 once slot 0 is retired: a majority of its one other live slot", await make(1, [2], COUNTER + 1), Reason.OK, { retiredRoots: 1, storedCounter: COUNTER }, { retiredMask: 3, counter: COUNTER + 1 });
  {
    // The single-signature COSE_Sign1 form (what fwseal wrote before statements took several
    // roots): one signature, enough for a two-slot device only.
    const sign1 = async (slot: number, by: number, counter: number) => {
      const payload = encodeRootRetirementPayload({ slot, counter, vendorId, retiredKey: roots[slot].pk });
      const prot = encodeProtectedHeader({ kid: keyId(roots[by].pk) });
      return encodeRootStatement(prot, payload, await signers[by].sign(rootStatementToBeSigned(prot, payload)));
    };
    const s1 = await sign1(0, 1, COUNTER);
    add("stmt-sign1-two-slots", "COSE_Sign1 by root2 retiring slot 0 of a two-slot device (root1, root2)", s1, Reason.OK, { roots: three.slice(0, 2) }, { retiredMask: 1, counter: COUNTER });
    add("stmt-sign1-three-slots", "the same COSE_Sign1 on a three-slot device: one signature of the two needed", s1, Reason.THRESHOLD_NOT_MET, {}, { retiredMask: 0, counter: 0 });
    add("stmt-sign1-leaked-root-lockout", "COSE_Sign1 by root1 (slot 0, leaked) retiring slot 1 of a three-slot device with counter 2^53-1: the lock-out attack",
      await sign1(1, 0, Number.MAX_SAFE_INTEGER), Reason.THRESHOLD_NOT_MET, {}, { retiredMask: 0, counter: 0 });
    add("stmt-sign1-counter-max", "COSE_Sign1 by root2 retiring slot 0 of a two-slot device with counter 2^53-1 (would exhaust the counter)",
      await sign1(0, 1, Number.MAX_SAFE_INTEGER), Reason.TOO_LARGE, { roots: three.slice(0, 2) }, { retiredMask: 0, counter: 0 });
  }
  return out;
}
