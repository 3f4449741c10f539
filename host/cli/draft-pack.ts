// CLI glue for `fwseal pack --unsigned` (called from commands/pack.ts): a draft bundle for
// offline / k-of-n signing (host/bundle/drafts.ts, formats/SPEC.md §12).
import { createDraft, checkPolicyFeasible, type DraftPolicy } from "../bundle/drafts.js";
import { loadPublicKeySpec } from "../keys/public-key-spec.js";
import { keyIdHex } from "../keys/keys.js";
import { auditSigning, type AuditArgs } from "../audit/audit-log.js";
import type { ImageFormat } from "../bundle/image-input.js";
import type { HexGaps } from "../io/intel-hex.js";
import { out, formatBytes } from "./output.js";
import { outDocument } from "./json-document.js";
import { FwsealError } from "../errors.js";
import type { Provenance } from "../../formats/host-only/manifest.js";

export interface DraftArgs extends AuditArgs {
  image: string;
  output: string;
  vendor: string;
  class: string;
  "fw-version": string;
  "chunk-size"?: number;
  unsigned?: boolean;
  threshold?: number;
  "allow-signer"?: string[];
  force?: boolean;
  json?: boolean;
}

/** Adds --unsigned, --threshold and --allow-signer to pack. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function draftOptions(y: any): any {
  return y
    .option("unsigned", { type: "boolean", description: "Write a DRAFT without signatures for offline / k-of-n signing (then fwseal sign / tbs + attach-signature, finalize)" })
    .option("threshold", { type: "number", description: "--unsigned: signatures the draft needs (finalize enforces at least this)" })
    .option("allow-signer", { type: "string", array: true, description: "--unsigned: public key allowed to sign the draft (.pub / hex / pkcs11:); repeatable; default anyone" });
}

export async function packUnsignedCli(
  a: DraftArgs,
  m: { sequence: number; provenance?: Provenance; sbomDigest?: Uint8Array; releaseNotes?: string; keyEpochFloor?: number }
): Promise<void> {
  const policy: DraftPolicy = {};
  const allowed = a["allow-signer"] ?? [];
  if (allowed.length > 0) {
    const ids: string[] = [];
    for (const p of allowed) ids.push(keyIdHex(await loadPublicKeySpec(p)));
    policy.signers = ids;
  }
  if (a.threshold !== undefined) {
    checkPolicyFeasible(a.threshold, policy.signers?.length);
    policy.threshold = a.threshold;
  }
  if ((a as { key?: unknown }).key !== undefined && [(a as { key?: unknown }).key].flat().length > 0) {
    throw new FwsealError("USAGE", "--unsigned writes a draft without signatures: drop --key, then run fwseal sign on the draft");
  }
  const r = await createDraft({
    image: a.image,
    output: a.output,
    vendor: a.vendor,
    deviceClass: a.class,
    sequence: m.sequence,
    version: a["fw-version"],
    chunkSize: a["chunk-size"],
    provenance: m.provenance,
    sbomDigest: m.sbomDigest,
    releaseNotes: m.releaseNotes,
    keyEpochFloor: m.keyEpochFloor,
    policy,
    overwrite: !!a.force,
    inputFormat: (a as { "input-format"?: ImageFormat })["input-format"],
    hexGaps: (a as { "hex-gaps"?: HexGaps })["hex-gaps"]
  });
  const s = r.manifest;
  await auditSigning(a, "pack", [], "none", r.output, {
    draft: true, version: s.version, sequence: s.sequence, vendorId: s.vendorId, classId: s.classId, imageSize: s.imageSize, chainHead: s.chainHead,
    ...(policy.threshold !== undefined ? { threshold: policy.threshold } : {})
  });
  if (a.json) {
    outDocument({ kind: "draft", file: r.output, draftSize: r.draftSize, manifest: s, policy: { threshold: policy.threshold ?? null, signers: policy.signers ?? null } });
    return;
  }
  out(`draft ${r.output}: ${formatBytes(r.draftSize)}, unsigned (${s.chunkCount} chunks of ${s.chunkSize} bytes)`);
  out(`  version ${s.version}, sequence ${s.sequence}; needs ${policy.threshold ?? 1} signature(s)${policy.signers ? ` from ${policy.signers.join(", ")}` : ""}`);
  out(`  next: fwseal sign ${r.output} --in-place --key <key>   or   fwseal tbs ${r.output} --signer-key <pub> -o tbs.bin`);
}
