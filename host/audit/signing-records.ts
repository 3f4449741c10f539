// What the audit log records for pack and sign, built in one place so that the CLI and the
// library write the same record for the same operation.
import { formatUuid } from "../../formats/host-only/uuid.js";
import type { PackResult } from "../bundle/pack.js";
import type { AddSignatureResult } from "../bundle/drafts.js";
import type { AuditValue } from "./audit-log.js";

/** The summary of a pack record: manifest fields, chain head, signature count, refusals forced through. */
export function packRecordSummary(r: PackResult, m: { version: string; sequence: number; keyEpochFloor?: number }): { [k: string]: AuditValue } {
  return {
    version: m.version, sequence: m.sequence, vendorId: formatUuid(r.vendorId), classId: formatUuid(r.classId), imageSize: r.imageSize,
    chainHead: Buffer.from(r.chainHead).toString("hex"), signatures: r.signerKeyIds.length,
    ...(m.keyEpochFloor !== undefined ? { keyEpochFloor: m.keyEpochFloor } : {}),
    ...(r.warnings.length > 0 ? { forced: r.warnings } : {}) // a release written over a refusal (force)
  };
}

/** The summary of a sign record: the draft's manifest fields and its signature count after signing. */
export function signRecordSummary(r: AddSignatureResult): { [k: string]: AuditValue } {
  const m = r.draft.manifest;
  return {
    version: m.version, sequence: m.sequence, vendorId: m.vendorId, classId: m.classId, imageSize: m.imageSize,
    chainHead: m.chainHead, signatures: r.signatures, ...(m.keyEpochFloor !== null ? { keyEpochFloor: m.keyEpochFloor } : {}),
    ...(r.warnings.length > 0 ? { forced: r.warnings } : {})
  };
}
