// fwseal finalize: turn a signed draft into the final bundle, but only if the bundle passes
// the given device policy (roots, threshold k, vendor/class, epochs) in the device verifier.
import type { CommandModule } from "yargs";
import { finalizeDraft, readDraft } from "../../bundle/drafts.js";
import { policyOptions, policyFromArgs, type PolicyArgs } from "./verify.js";
import { auditOptions, auditSigning, preflightAudit, type AuditArgs } from "../../audit/audit-log.js";
import { out, formatBytes, err } from "../output.js";
import { outDocument, signerIdDoc, verifiedManifestDoc } from "../json-document.js";
import { forceOption } from "../argument-checks.js";

interface Args extends PolicyArgs, AuditArgs {
  draft: string;
  output: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "finalize <draft>",
  describe: "Build the final bundle from a signed draft after checking it against a k-of-n policy",
  builder: (y) =>
    auditOptions(
      policyOptions(
        forceOption(y, "Overwrite an existing output; write the bundle even if the policy refuses it")
          .positional("draft", { type: "string", demandOption: true, description: "Signed draft bundle" })
          .option("output", { alias: "o", type: "string", demandOption: true, description: "Final bundle file to write" })
      )
    )
      .example("$0 finalize fw.draft --threshold 2 --root root.pub -o fw.fwb", "2 distinct authorised signers required")
      .example("$0 finalize fw.draft --threshold 2 --root r0.pub --root r1.pub --vendor acme.example --class hub -o fw.fwb", "also check the device identity")
      .example("$0 finalize fw.draft --threshold 2 --root-threshold 2 --root r0.pub --root r1.pub -o fw.fwb", "two-person rule: signers through two different roots") as never,
  handler: async (a) => {
    await preflightAudit(a);
    const d = await readDraft(a.draft);
    const policy = await policyFromArgs(a);
    // The draft's own threshold (set at pack --unsigned) is a floor: finalize never goes below it.
    const k = Math.max(policy.threshold ?? 1, d.policy.threshold ?? 1);
    const { threshold: _t, ...rest } = policy;
    const r = await finalizeDraft(a.draft, { output: a.output, threshold: k, policy: rest, overwrite: !!a.force, force: !!a.force });
    const m = r.manifest;
    await auditSigning(a, "finalize", r.signers, "none", r.output, {
      version: m.version, sequence: m.sequence, vendorId: m.vendorId, classId: m.classId, imageSize: m.imageSize,
      chainHead: m.chainHead, signatures: r.signers.length, threshold: r.threshold, ...(r.warnings.length > 0 ? { forced: r.warnings } : {})
    });
    for (const w of r.warnings) err(`fwseal: warning: ${w}`);
    if (a.json) {
      outDocument({ warnings: r.warnings, file: r.output, bundleSize: r.bundleSize, envelopeSize: r.envelopeSize, threshold: r.threshold, rootThreshold: r.rootThreshold, signers: r.signers.map((k) => signerIdDoc(k, null)), manifest: verifiedManifestDoc(r.verify.manifest) });
      return;
    }
    out(`${r.output}: ${formatBytes(r.bundleSize)}, ${r.signers.length} signer(s) (${r.signers.join(", ")}), passes ${r.threshold}-of-n policy${r.rootThreshold > 1 ? ` through ${r.rootThreshold} distinct roots` : ""}`);
    out(`  version ${m.version}, sequence ${m.sequence}, ${m.chunkCount} chunks of ${m.chunkSize} bytes`);
  }
};
export default command;
