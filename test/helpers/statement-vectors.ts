// The device state of a root-statement golden vector (formats/vectors/index.json,
// "rootStatements"), as the device core's statement check takes it.
import type { StatementVectorEntry } from "../../dev/root-statement-vectors.js";
import type { RootTrustState } from "../../device-sim/core/verify/root-statement.js";
import { parseUuid } from "../../formats/host-only/uuid.js";

/** Roots, retired bits, identity, stored counter and provisioned threshold of vector `v`. */
export function statementVectorState(v: StatementVectorEntry): { state: RootTrustState; storedCounter: number; retireThreshold: number } {
  const p = v.policy;
  const roots = new Uint8Array(Buffer.from(p.roots.join(""), "hex"));
  return {
    state: { roots, rootCount: p.roots.length, rootRetired: p.retiredRoots, vendorId: parseUuid(p.vendor), classId: parseUuid(p.class) },
    storedCounter: p.storedCounter,
    retireThreshold: p.retireThreshold
  };
}
